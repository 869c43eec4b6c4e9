// Helper process for test_concurrency: appends `rows` metrics to run `run_id` in batches, as the
// trainer does beside a reading GUI. Row i has value i, step i / 2 and names alternating
// loss / lr; wall_s is the Unix time at which its batch was written, so the reader can measure
// its lag. Prints "rows=<n> seconds=<s>" and exits 0, or prints the error and exits 1.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "core/spec/error.h"
#include "projects/store/project_store.h"

static double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s <project> <run_id> <rows> <batch>\n", argv[0]);
    return 2;
  }
  try {
    auto store = hylo::store::ProjectStore::open(argv[1], false);
    const std::int64_t run = std::stoll(argv[2]), total = std::stoll(argv[3]), batch = std::stoll(argv[4]);
    auto start = std::chrono::steady_clock::now();
    std::vector<hylo::store::MetricRow> rows;
    for (std::int64_t i = 0; i < total; i += batch) {
      rows.clear();
      double now = unix_seconds();
      for (std::int64_t k = i; k < std::min(total, i + batch); ++k)
        rows.push_back({k / 2, k * 1024, now, k % 2 ? "lr" : "loss", double(k)});
      store.append_metrics(run, rows);
      // A trainer writes between steps, not back to back.
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("rows=%lld seconds=%.3f\n", static_cast<long long>(total), s);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "writer: %s\n", e.what());
    return 1;
  }
}
