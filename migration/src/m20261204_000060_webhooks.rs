//! Webhooks for data platforms: `webhook_subscriptions` (a county's receivers: URL, event types,
//! signing secret) and `webhook_deliveries`, the outbox. A delivery row is written in the same
//! transaction as the change it announces, so a committed change cannot lose its event and a
//! rolled-back one (a dry run) leaves none; the row then records every attempt's outcome until it
//! is delivered or has failed. Its id is the `webhook-id` a receiver de-duplicates by.

use sea_orm_migration::prelude::*;

use crate::alter::{column as col, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("webhook_subscriptions"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("county_id").uuid().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .col(col("version").integer().not_null())
                    .col(col("url").text().not_null())
                    // The event types, a JSON array of their names.
                    .col(col("events").text().not_null())
                    // `whsec_…`: the receiver needs the key itself to verify, so it is kept as is.
                    .col(col("secret").text().not_null())
                    .col(col("active").boolean().not_null())
                    .col(col("created_by").uuid().not_null())
                    .take(),
            )
            .await?;
        for (name, columns) in [
            ("ix_webhook_subscriptions_county_id", &["county_id", "id"][..]),
            ("ix_webhook_subscriptions_updated", &["county_id", "updated_at"][..]),
        ] {
            manager
                .create_index(index("webhook_subscriptions", name, columns))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("webhook_deliveries"))
                    .col(col("id").uuid().not_null().primary_key())
                    .col(col("county_id").uuid().not_null())
                    .col(col("created_at").timestamp_with_time_zone().not_null())
                    .col(col("updated_at").timestamp_with_time_zone().not_null())
                    .col(col("subscription_id").uuid().not_null())
                    .col(col("event_type").text().not_null())
                    // The scheme-year a `result.changed` is about (its debouncing key).
                    .col(col("scheme_id").uuid().null())
                    .col(col("payload").text().not_null())
                    .col(col("status").text().not_null())
                    .col(col("attempts").integer().not_null())
                    .col(col("next_attempt_at").timestamp_with_time_zone().not_null())
                    .col(col("last_attempt_at").timestamp_with_time_zone().null())
                    .col(col("last_status").integer().null())
                    .col(col("last_error").text().null())
                    .col(col("delivered_at").timestamp_with_time_zone().null())
                    .take(),
            )
            .await?;
        for (name, columns) in [
            ("ix_webhook_deliveries_due", &["status", "next_attempt_at"][..]),
            ("ix_webhook_deliveries_subscription", &["subscription_id", "id"][..]),
            ("ix_webhook_deliveries_county_id", &["county_id", "id"][..]),
        ] {
            manager.create_index(index("webhook_deliveries", name, columns)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("webhook_deliveries")).take())
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("webhook_subscriptions")).take())
            .await
    }
}
