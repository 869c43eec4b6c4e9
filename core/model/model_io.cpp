#include "core/model/model_io.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <set>

#include "core/io/checkpoint.h"
#include "core/spec/error.h"

namespace hylo {
namespace {

// Tensors HF checkpoints may carry that are not parameters here.
bool ignorable(const std::string& name, const ModelConfig& config) {
  // Old Llama exports saved the RoPE buffer; tied models sometimes still write the lm_head copy.
  const std::string rope_buffer = "rotary_emb.inv_freq";
  if (name.size() >= rope_buffer.size() && name.compare(name.size() - rope_buffer.size(), rope_buffer.size(), rope_buffer) == 0)
    return true;
  return config.tie_word_embeddings && name == "lm_head.weight";
}

}  // namespace

std::shared_ptr<HybridModel> load_model(const std::string& dir, at::ScalarType dtype, at::Device device) {
  CheckpointReader reader(dir);
  const ModelConfig& config = reader.config();
  auto model = std::make_shared<HybridModel>(config);
  at::NoGradGuard no_grad;
  std::set<std::string> expected;
  for (auto& p : model->named_parameters()) {
    expected.insert(p.key());
    // load_checked: IoError naming file and tensor when it is absent or has another shape.
    p.value().set_data(reader.load_checked(p.key(), p.value().sizes(), dtype).to(device));
  }
  for (const auto& name : reader.tensor_names())
    if (!expected.count(name) && !ignorable(name, config))
      throw IoError("tensor has no parameter in a " + config.model_type + " model of this config",
                    reader.file_of(name), name);
  model->to(device, dtype);  // buffers and anything the loop did not touch
  return model;
}

void save_model(const std::string& dir, HybridModel& model, const ModelConfig& config,
                const std::string& tokenizer_json) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& p : model.named_parameters()) tensors.emplace_back(p.key(), p.value().detach());
  write_checkpoint(dir, config, tensors, tokenizer_json);
}

}  // namespace hylo
