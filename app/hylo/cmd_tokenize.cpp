// `hylo tokenize <ckpt-dir|tokenizer.json> --text "..." | --ids 1,2,3`: encode text to ids (with
// their tokens) or decode ids to text, with the checkpoint's tokenizer.json.
#include <nlohmann/json.hpp>

#include <iostream>
#include <sstream>

#include "app/hylo/command.h"
#include "core/spec/error.h"
#include "core/text/tokenizer.h"

namespace {

struct TokenizeArgs {
  std::string path, text, ids;
  bool add_special = false, skip_special = false;
};

std::vector<int32_t> parse_ids(const std::string& list) {
  std::vector<int32_t> ids;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (used != item.size() || v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::logic_error&) {
      throw hylo::TokenizerError("'" + item + "' is not an integer id", "", "--ids");
    }
  }
  return ids;
}

void run(const TokenizeArgs& a) {
  auto tok = hylo::Tokenizer::from_file(a.path);
  bool json = hylo::cli::global_options().json;
  if (!a.ids.empty()) {
    std::string text = tok.decode(parse_ids(a.ids), a.skip_special);
    if (json) std::cout << nlohmann::json{{"text", text}}.dump() << "\n";
    else std::cout << text << "\n";
    return;
  }
  auto ids = tok.encode(a.text, a.add_special);
  std::vector<std::string> tokens;
  for (int32_t id : ids) tokens.push_back(*tok.token(id));
  if (json) {
    std::cout << nlohmann::json{{"ids", ids}, {"tokens", tokens}, {"count", ids.size()}}.dump() << "\n";
    return;
  }
  std::cout << ids.size() << " tokens\n";
  for (size_t i = 0; i < ids.size(); ++i) std::cout << ids[i] << "\t" << nlohmann::json(tokens[i]).dump() << "\n";
}

void setup_tokenize(CLI::App& root) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = root.add_subcommand("tokenize", "Encode text to token ids, or decode ids to text");
  cmd->add_option("path", args->path, "Checkpoint directory or tokenizer.json")->required();
  auto* text = cmd->add_option("--text", args->text, "Text to encode");
  auto* ids = cmd->add_option("--ids", args->ids, "Comma-separated ids to decode");
  text->excludes(ids);
  cmd->add_flag("--add-special", args->add_special, "Apply the post-processor template (e.g. BOS)");
  cmd->add_flag("--skip-special", args->skip_special, "Drop special tokens when decoding");
  cmd->callback([args, text, ids] {
    if (text->count() == 0 && ids->count() == 0) throw hylo::TokenizerError("give --text or --ids", "", "tokenize");
    run(*args);
  });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_tokenize);
