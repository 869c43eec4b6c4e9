// `hylo plan suggest`: added to the `plan` subcommand by cmd_plan.cpp.
#pragma once
#include <CLI/CLI.hpp>

namespace hylo::cli {
void add_plan_suggest(CLI::App* plan);
}
