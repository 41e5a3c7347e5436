-- The schema that coupond made with GORM AutoMigrate before versioned
-- migrations, dumped from a database it created; the migration tests
-- upgrade it.
CREATE TABLE `batches` (`id` integer PRIMARY KEY AUTOINCREMENT,`base_code` text NOT NULL,`quantity` integer NOT NULL,`status` text NOT NULL,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE TABLE `coupons` (`id` integer PRIMARY KEY AUTOINCREMENT,`code` text NOT NULL,`utm_source` text,`utm_campaign` text,`archived` numeric NOT NULL DEFAULT false,`max_items_per_client` integer NOT NULL DEFAULT 0,`expiration_interval_per_use` integer NOT NULL DEFAULT 0,`max_usage` integer NOT NULL DEFAULT 0,`batch_id` integer,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE INDEX `idx_coupons_batch_id` ON `coupons`(`batch_id`);
CREATE TABLE `users` (`id` integer PRIMARY KEY AUTOINCREMENT,`email` text NOT NULL,`password_hash` text NOT NULL,`role` text NOT NULL,`disabled` numeric NOT NULL DEFAULT false,`session_version` integer NOT NULL DEFAULT 1,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL);
CREATE UNIQUE INDEX `idx_users_email` ON `users`(`email`);
CREATE TABLE `api_tokens` (`id` integer PRIMARY KEY AUTOINCREMENT,`name` text NOT NULL,`scope` text NOT NULL,`hash` text NOT NULL,`hint` text NOT NULL,`created_by` text NOT NULL,`created_at` datetime,`last_used_at` datetime,`revoked_at` datetime);
CREATE UNIQUE INDEX `idx_api_tokens_hash` ON `api_tokens`(`hash`);
CREATE TABLE `setup_tokens` (`id` integer PRIMARY KEY AUTOINCREMENT,`hash` text NOT NULL,`created_at` datetime NOT NULL);
CREATE UNIQUE INDEX `idx_setup_tokens_hash` ON `setup_tokens`(`hash`);
CREATE TABLE `audit_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`at` datetime NOT NULL,`actor` text NOT NULL,`action` text NOT NULL,`entity` text NOT NULL,`entity_id` text NOT NULL,`summary` text NOT NULL);
CREATE INDEX `idx_audit_entity_id` ON `audit_events`(`entity`);
CREATE INDEX `idx_audit_action_id` ON `audit_events`(`action`);
CREATE INDEX `idx_audit_actor_id` ON `audit_events`(`actor`);
CREATE INDEX `idx_audit_events_at` ON `audit_events`(`at`);
CREATE UNIQUE INDEX idx_coupons_code_key ON coupons (lower(code));
CREATE INDEX idx_coupons_archived_code ON coupons (archived, lower(code));
CREATE INDEX idx_coupons_utm_source_code ON coupons (utm_source, lower(code));
CREATE INDEX idx_coupons_utm_campaign_code ON coupons (utm_campaign, lower(code));
CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);
