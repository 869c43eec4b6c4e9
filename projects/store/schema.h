// project.db schema: ordered migrations, each taking version N-1 to N in one transaction.
// A fresh file runs them all, so new and upgraded projects end with the same tables.
#pragma once

namespace hylo::store {

class Db;

inline constexpr int kSchemaVersion = 2;

// Brings the database to kSchemaVersion and returns it. Throws StoreError when the file holds
// tables but no HyLo meta table (not a project), or a schema newer than this build knows.
int migrate(Db& db);

}  // namespace hylo::store
