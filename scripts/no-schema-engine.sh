#!/bin/sh
# `prisma generate` needs no schema engine, but the Prisma CLI downloads one unless
# PRISMA_SCHEMA_ENGINE_BINARY names an executable. This is that executable: it does nothing.
exit 0
