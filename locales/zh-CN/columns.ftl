# Column headers of uploads, templates and exports: `column-<field>` = the header a clerk reads.
# An upload's header may be the field name, this label or the English one (locales/en/columns.ftl).

## Findings (incidents:bulk)
column-subject_id = 考核对象ID
column-scheme_id = 考核方案ID
column-kind = 记录类型
column-item_code = 指标编号
column-rule_code = 扣加分规则
column-occurred_on = 发生日期
column-quantity = 次数
column-period = 季度
column-rate = 准确率
column-sampled = 抽查数
column-correct = 正确数
column-amount = 金额
column-points = 分值
column-event_key = 事项名称
column-source = 来源
column-note = 备注
column-evidence = 佐证材料
column-evidence_ids = 佐证材料ID

## Scoresheets and ballots (scoresheets:bulk, ballots:bulk)
column-evaluation_id = 考核活动ID
column-assessor = 评分人
column-score = 得分
column-participant = 测评人

## Subjects and attributes (subjects:bulk, attributes:bulk)
column-ref = 行标识
column-subject_type = 对象类型
column-name = 名称
column-parent_id = 上级ID
column-parent_ref = 上级行标识
column-dispatched_by = 派出单位ID
column-dispatched_by_ref = 派出单位行标识
column-stationed_in = 驻村ID
column-stationed_in_ref = 驻村行标识
column-external_code = 外部编码
column-has_special_indicators = 有特色指标
column-ranking_group = 排名分组
column-annual_target_met = 完成年度目标
column-recalled = 已召回
column-reserve_cadre = 后备干部
column-vertically_managed = 垂直管理
column-version = 版本

## Exports of results and rankings
column-township_id = 所属乡镇ID
column-evaluations = 各次考核得分
column-exact = 精确得分(分数)
column-published_score = 公布得分
column-grade = 考核等次
column-bonus_pay = 年终目标奖比例
column-vetoed = 一票否决
column-consequences = 结果运用
column-consequence_causes = 结果运用原因
column-referred_to_supervisor = 建议主管部门处理
column-quarterly = 季度考核得分
column-rank = 名次
column-prize = 奖项
column-not_scored_reason = 未得分原因
column-ranking = 排名类别
column-group = 分组
# The exact decimal beside a score shown as a number in .xlsx exports.
column-exact_text = { $column }(精确值)
