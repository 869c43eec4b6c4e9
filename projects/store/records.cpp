#include "projects/store/records.h"

#include <array>
#include <utility>

namespace hylo::store {

namespace {
constexpr std::array<std::pair<ModelKind, const char*>, 3> kModelKinds{
    {{ModelKind::Teacher, "teacher"}, {ModelKind::Student, "student"}, {ModelKind::Checkpoint, "checkpoint"}}};
constexpr std::array<std::pair<RunState, const char*>, 5> kRunStates{{{RunState::Queued, "queued"},
                                                                       {RunState::Running, "running"},
                                                                       {RunState::Finished, "finished"},
                                                                       {RunState::Failed, "failed"},
                                                                       {RunState::Stopped, "stopped"}}};
constexpr std::array<std::pair<EvalKind, const char*>, 4> kEvalKinds{
    {{EvalKind::Niah, "niah"}, {EvalKind::Ruler, "ruler"}, {EvalKind::Ppl, "ppl"}, {EvalKind::Probe, "probe"}}};

template <typename E, std::size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& table, E e) {
  for (auto& [value, name] : table)
    if (value == e) return name;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, const char*>, N>& table, std::string_view s) {
  for (auto& [value, name] : table)
    if (s == name) return value;
  return std::nullopt;
}
}  // namespace

const char* to_string(ModelKind k) { return name_of(kModelKinds, k); }
const char* to_string(RunState s) { return name_of(kRunStates, s); }
const char* to_string(EvalKind k) { return name_of(kEvalKinds, k); }
std::optional<ModelKind> parse_model_kind(std::string_view s) { return value_of(kModelKinds, s); }
std::optional<RunState> parse_run_state(std::string_view s) { return value_of(kRunStates, s); }
std::optional<EvalKind> parse_eval_kind(std::string_view s) { return value_of(kEvalKinds, s); }

bool is_terminal(RunState s) {
  return s == RunState::Finished || s == RunState::Failed || s == RunState::Stopped;
}

}  // namespace hylo::store
