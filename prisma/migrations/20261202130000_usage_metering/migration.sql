-- CreateTable
CREATE TABLE "usage_counts" (
    "granularity" VARCHAR(6) NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "project_id" UUID NOT NULL,
    "deployment_id" UUID NOT NULL,
    "api_key_id" UUID NOT NULL,
    "requests" BIGINT NOT NULL DEFAULT 0,
    "errors" BIGINT NOT NULL DEFAULT 0,
    "rejected" BIGINT NOT NULL DEFAULT 0,
    "rate_limited" BIGINT NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "usage_counts_pkey" PRIMARY KEY ("deployment_id","granularity","bucket_start","api_key_id")
);

-- CreateIndex
CREATE INDEX "usage_counts_api_key_id_granularity_bucket_start_idx" ON "usage_counts"("api_key_id", "granularity", "bucket_start");

-- CreateIndex
CREATE INDEX "usage_counts_project_id_granularity_bucket_start_idx" ON "usage_counts"("project_id", "granularity", "bucket_start");

-- CreateIndex
CREATE INDEX "usage_counts_granularity_bucket_start_idx" ON "usage_counts"("granularity", "bucket_start");

-- AddForeignKey
ALTER TABLE "usage_counts" ADD CONSTRAINT "usage_counts_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;
