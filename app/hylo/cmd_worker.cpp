// `hylo worker`: JSON-lines server for the GUI (protocol in docs/contracts). One model stays loaded;
// requests run one at a time in arrival order; a reader thread takes stdin so that "cancel" and
// "shutdown" act while a request runs. stdout carries only protocol lines; logs go to stderr.
#include <c10/util/Exception.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "app/hylo/command.h"
#include "core/eval/probe.h"
#include "core/spec/error.h"

namespace {

using nlohmann::json;

class Worker {
 public:
  void run() {
    // The reader sets stopping_ only once it has left its loop, so the join below never blocks.
    std::thread reader([this] { read_stdin(); });
    while (auto request = next_request()) {
      const json id = (*request)["id"];
      try {
        handle(*request);
      } catch (const hylo::Cancelled&) {
        emit({{"id", id}, {"event", "error"}, {"message", "cancelled"}});
      } catch (const c10::Error& e) {
        emit({{"id", id}, {"event", "error"}, {"message", e.what_without_backtrace()}});
      } catch (const std::exception& e) {
        emit({{"id", id}, {"event", "error"}, {"message", e.what()}});
      }
      std::lock_guard<std::mutex> lock(queue_mu_);
      running_.reset();
      cancel_ = false;
    }
    reader.join();
  }

 private:
  void emit(const json& line) {
    std::lock_guard<std::mutex> lock(out_mu_);
    std::cout << line.dump() << "\n" << std::flush;
  }

  std::optional<json> next_request() {
    std::unique_lock<std::mutex> lock(queue_mu_);
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return std::nullopt;
    json r = std::move(queue_.front());
    queue_.pop_front();
    running_ = r["id"];
    return r;
  }

  // Runs on the reader thread: queues work, acts on cancel / shutdown at once.
  void read_stdin() {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json r;
      try {
        r = json::parse(line);
      } catch (const json::exception& e) {
        emit({{"id", nullptr}, {"event", "error"}, {"message", std::string("bad JSON: ") + e.what()}});
        continue;
      }
      if (!r.is_object() || !r.contains("op") || !r["op"].is_string()) {
        emit({{"id", r.is_object() && r.contains("id") ? r["id"] : json()},
              {"event", "error"},
              {"message", "a request is a JSON object with \"id\" and \"op\""}});
        continue;
      }
      if (!r.contains("id")) r["id"] = nullptr;
      const auto op = r["op"].get<std::string>();
      if (op == "cancel") {
        cancel(r);
      } else if (op == "shutdown") {
        emit({{"id", r["id"]}, {"event", "result"}, {"shutdown", true}});
        break;
      } else {
        std::lock_guard<std::mutex> lock(queue_mu_);
        queue_.push_back(std::move(r));
        cv_.notify_one();
      }
    }
    std::lock_guard<std::mutex> lock(queue_mu_);  // shutdown or end of input
    stopping_ = true;
    cancel_ = true;
    cv_.notify_one();
  }

  void cancel(const json& r) {
    const json target = r.value("target", json());
    bool found = false;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (running_ && *running_ == target) {
        cancel_ = true;  // the running request answers "cancelled" itself
        found = true;
      } else {
        for (auto it = queue_.begin(); it != queue_.end(); ++it)
          if ((*it)["id"] == target) {
            queue_.erase(it);
            emit({{"id", target}, {"event", "error"}, {"message", "cancelled"}});
            found = true;
            break;
          }
      }
    }
    emit({{"id", r["id"]}, {"event", "result"}, {"cancelled", found}});
  }

  template <class T>
  static T field(const json& r, const char* name, T fallback) {
    if (!r.contains(name) || r[name].is_null()) return fallback;
    try {
      return r[name].get<T>();
    } catch (const json::exception&) {
      throw hylo::EvalError("has the wrong type", {}, name);
    }
  }

  void handle(const json& r) {
    const json id = r["id"];
    const auto op = r["op"].get<std::string>();
    if (op == "load") {
      const auto dir = field<std::string>(r, "model", "");
      if (dir.empty()) throw hylo::EvalError("no model folder given", {}, "model");
      model_.reset();  // free the old weights before loading the new ones
      model_ = hylo::load_for_inference(dir, hylo::parse_dtype(field<std::string>(r, "dtype", "fp32")),
                                hylo::parse_device(field<std::string>(r, "device", "cpu")));
      const auto& c = model_->model->config();
      emit({{"id", id},
            {"event", "result"},
            {"model", dir},
            {"layers", c.num_hidden_layers},
            {"vocab_size", c.vocab_size},
            {"tokenizer", model_->tokenizer.has_value()},
            {"memory", {{"weights", hylo::weight_bytes(*model_->model)}}}});
    } else if (op == "probe") {
      if (!model_) throw hylo::EvalError("no model loaded: send a \"load\" request first", {}, "model");
      hylo::ProbeRequest p;
      p.haystack = field<std::string>(r, "haystack", "");
      p.needle = field<std::string>(r, "needle", "");
      p.question = field<std::string>(r, "question", "");
      p.answer = field<std::string>(r, "answer", "");
      p.depth = field<double>(r, "depth", 50.0);
      p.length = field<int64_t>(r, "length", 4096);
      p.max_new_tokens = field<int64_t>(r, "max_new_tokens", 32);
      p.engine.chunk = field<int64_t>(r, "chunk", 2048);
      p.engine.cache_dtype = model_->dtype;
      auto on_progress = [&](int64_t done, int64_t total) {
        emit({{"id", id}, {"event", "progress"}, {"done", done}, {"total", total}, {"what", "prefill"}});
      };
      auto result = hylo::to_json(hylo::run_probe(*model_, p, on_progress, &cancel_));
      result["id"] = id;
      result["event"] = "result";
      emit(result);
    } else {
      throw hylo::EvalError("unknown op '" + op + "' (load, probe, cancel, shutdown)", {}, "op");
    }
  }

  std::mutex out_mu_, queue_mu_;
  std::condition_variable cv_;
  std::deque<json> queue_;
  std::optional<json> running_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};
  std::optional<hylo::LoadedModel> model_;
};

void setup_worker(CLI::App& root) {
  auto* cmd = root.add_subcommand("worker", "JSON-lines inference server on stdin/stdout (for the workbench)");
  cmd->callback([] {
    std::cin.tie(nullptr);  // the reader thread must not flush stdout behind the writer's lock
    Worker().run();
  });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_worker);
