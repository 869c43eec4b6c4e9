// Test helper for GUI tests that start the real `hylo train` without LibTorch in the test: a tiny
// random Llama checkpoint (config.json + model.safetensors written by hand: 8-byte header length,
// JSON header, fp32 data) and a token-shard folder (core/train/data.h layout) of a learnable
// repeating pattern. Sizes are tiny so a CPU step takes milliseconds.
#pragma once
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/spec/sha256.h"

namespace hylo::testing {

constexpr int kTinyVocab = 64, kTinyHidden = 32, kTinyInter = 64, kTinyLayers = 2, kTinyHeads = 4, kTinyKv = 2,
              kTinyHeadDim = 8;

inline bool write_bytes(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

inline QByteArray tiny_llama_config() {
  QJsonObject c{{"model_type", "llama"}, {"architectures", QJsonArray{"LlamaForCausalLM"}},
                {"vocab_size", kTinyVocab}, {"hidden_size", kTinyHidden}, {"intermediate_size", kTinyInter},
                {"num_hidden_layers", kTinyLayers}, {"num_attention_heads", kTinyHeads},
                {"num_key_value_heads", kTinyKv}, {"head_dim", kTinyHeadDim}, {"max_position_embeddings", 256},
                {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}, {"tie_word_embeddings", true}};
  return QJsonDocument(c).toJson();
}

// Every Llama weight by its Hugging Face name and shape; norms 1, the rest N(0, 0.02).
inline bool write_tiny_llama(const QString& dir, unsigned seed) {
  std::vector<std::pair<QString, std::vector<int>>> shapes = {{"model.embed_tokens.weight", {kTinyVocab, kTinyHidden}},
                                                              {"model.norm.weight", {kTinyHidden}}};
  const int q = kTinyHeads * kTinyHeadDim, kv = kTinyKv * kTinyHeadDim;
  for (int l = 0; l < kTinyLayers; ++l) {
    const QString p = QStringLiteral("model.layers.%1.").arg(l);
    shapes.push_back({p + "input_layernorm.weight", {kTinyHidden}});
    shapes.push_back({p + "post_attention_layernorm.weight", {kTinyHidden}});
    shapes.push_back({p + "self_attn.q_proj.weight", {q, kTinyHidden}});
    shapes.push_back({p + "self_attn.k_proj.weight", {kv, kTinyHidden}});
    shapes.push_back({p + "self_attn.v_proj.weight", {kv, kTinyHidden}});
    shapes.push_back({p + "self_attn.o_proj.weight", {kTinyHidden, q}});
    shapes.push_back({p + "mlp.gate_proj.weight", {kTinyInter, kTinyHidden}});
    shapes.push_back({p + "mlp.up_proj.weight", {kTinyInter, kTinyHidden}});
    shapes.push_back({p + "mlp.down_proj.weight", {kTinyHidden, kTinyInter}});
  }
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  QJsonObject header{{"__metadata__", QJsonObject{{"format", "pt"}}}};
  QByteArray data;
  for (const auto& [name, shape] : shapes) {
    std::size_t n = 1;
    QJsonArray dims;
    for (int d : shape) {
      n *= std::size_t(d);
      dims.append(d);
    }
    const bool norm = name.endsWith(QLatin1String("norm.weight"));
    std::vector<float> values(n);
    for (float& v : values) v = norm ? 1.0f : normal(rng);
    const qint64 begin = data.size();
    data.append(reinterpret_cast<const char*>(values.data()), qsizetype(n * sizeof(float)));
    header.insert(name, QJsonObject{{"dtype", "F32"}, {"shape", dims}, {"data_offsets", QJsonArray{begin, data.size()}}});
  }
  QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
  while (json.size() % 8) json.append(' ');
  QByteArray file(8, '\0');
  quint64 len = quint64(json.size());
  for (int i = 0; i < 8; ++i) file[i] = char((len >> (8 * i)) & 0xff);
  file += json + data;
  return QDir().mkpath(dir) && write_bytes(dir + "/config.json", tiny_llama_config()) &&
         write_bytes(dir + "/model.safetensors", file);
}

// One shard of `documents` documents, each a noisy "+7 mod 63" run of 40 ids ending in EOS (id 0).
inline bool write_tiny_data(const QString& dir, int documents, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint32_t> tokens;
  std::vector<std::uint64_t> offsets{0};
  for (int d = 0; d < documents; ++d) {
    for (int i = 0; i < 40; ++i) tokens.push_back(1 + std::uint32_t((i * 7 + int(rng() % 2)) % 63));
    tokens.push_back(0);
    offsets.push_back(tokens.size());
  }
  const QByteArray bin(reinterpret_cast<const char*>(tokens.data()), qsizetype(tokens.size() * 4));
  const QByteArray idx(reinterpret_cast<const char*>(offsets.data()), qsizetype(offsets.size() * 8));
  const QJsonObject shard{{"file", "shard_00000.bin"}, {"tokens", qint64(tokens.size())}, {"documents", documents},
                          {"sha256", QString::fromStdString(sha256_hex(bin.data(), std::size_t(bin.size())))},
                          {"index_sha256", QString::fromStdString(sha256_hex(idx.data(), std::size_t(idx.size())))}};
  const QJsonObject manifest{{"format", 1}, {"tokenizer_sha256", ""}, {"vocab_size", kTinyVocab},
                             {"eos_between_docs", true}, {"eos_id", 0}, {"total_tokens", qint64(tokens.size())},
                             {"total_documents", documents}, {"shards", QJsonArray{shard}}};
  return QDir().mkpath(dir) && write_bytes(dir + "/shard_00000.bin", bin) &&
         write_bytes(dir + "/shard_00000.idx", idx) &&
         write_bytes(dir + "/manifest.json", QJsonDocument(manifest).toJson());
}

}  // namespace hylo::testing
