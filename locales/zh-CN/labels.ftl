# Labels of enumerations: `label-<enum>-<value>`, the value as the API writes it (snake_case).

## grade
label-grade-excellent = 优秀
label-grade-competent = 称职
label-grade-basic = 基本称职
label-grade-incompetent = 不称职

## prize
label-prize-first = 一等奖
label-prize-second = 二等奖
label-prize-third = 三等奖

## consequence
label-consequence-interview = 约谈主要领导，诫勉分管领导
label-consequence-dismissal = 主要领导、分管领导予以免职
label-consequence-accountability = 启动问责程序
label-consequence-reserve_status_revoked = 取消相应资格
label-consequence-head_barred_from_honours = 取消所在单位主要负责人当年评先评优资格
label-consequence-leader_removed = 撤除工作队队长原单位职务
label-consequence-members_penalised = 对队员进行相应处罚

## incident_kind
label-incident_kind-deduction = 扣分
label-incident_kind-bonus = 加分
label-incident_kind-measurement = 季度抽查准确率
label-incident_kind-amount = 金额
label-incident_kind-adjustment = 奖惩得分
label-incident_kind-veto = 一票否决
label-incident_kind-major_failure = 驻村帮扶工作出现重大失误
label-incident_kind-dereliction = 失职渎职

## subject_type
label-subject_type-township = 乡镇
label-subject_type-department = 县级部门
label-subject_type-village = 村/社区
label-subject_type-first_secretary = 第一书记
label-subject_type-work_team = 驻村工作队
label-subject_type-agri_tech = 农业科技人员

## evaluation_kind
label-evaluation_kind-half_year = 半年考核
label-evaluation_kind-year_end = 年终考评
label-evaluation_kind-democratic = 民主测评
label-evaluation_kind-monthly = 月度公开
label-evaluation_kind-quarterly = 季度考核

## level
label-level-county = 县
label-level-township = 乡镇
label-level-village = 村

## role
label-role-admin = 管理员
label-role-assessor = 考核人员
label-role-viewer = 查看者

## incident_status
label-incident_status-active = 有效
label-incident_status-revoked = 已撤销

## appeal_status
label-appeal_status-pending = 待处理
label-appeal_status-upheld = 维持原记录
label-appeal_status-accepted = 已受理（记录撤销）

## evaluation_status
label-evaluation_status-open = 进行中
label-evaluation_status-closed = 已关闭

## org_kind
label-org_kind-county = 县
label-org_kind-township = 乡镇
label-org_kind-village = 村/社区
label-org_kind-department = 县级部门
