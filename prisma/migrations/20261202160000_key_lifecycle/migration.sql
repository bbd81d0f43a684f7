-- Key lifecycle (docs/architecture.md, "Rotation and expiry warnings"): a key holds at most two
-- secret hashes — the current one and, during a rotation overlap, the previous one until
-- previous_expires_at — and whether API_KEY_EXPIRING was recorded for its current expiresAt.

-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN "previous_hash" TEXT,
ADD COLUMN "previous_prefix" TEXT,
ADD COLUMN "previous_expires_at" TIMESTAMPTZ(3),
ADD COLUMN "expiring_announced" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex (a previous hash is unique among previous hashes; it never equals a current one: both are SHA-256 of fresh secrets)
CREATE UNIQUE INDEX "api_keys_previous_hash_key" ON "api_keys"("previous_hash");

-- CreateIndex: the audit trail filters the change log by type and reads it newest first
CREATE INDEX "change_events_project_id_type_revision_idx" ON "change_events"("project_id", "type", "revision");

-- The audit trail's key and deployment filters (expression indexes: written by hand, see the
-- ChangeEvent model in prisma/schema.prisma)
CREATE INDEX "change_events_project_id_api_key_id_revision_idx" ON "change_events"("project_id", (payload->>'apiKeyId'), "revision");
CREATE INDEX "change_events_project_id_deployment_id_revision_idx" ON "change_events"("project_id", (payload->>'deploymentId'), "revision");
