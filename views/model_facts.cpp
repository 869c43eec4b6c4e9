#include "views/model_facts.h"

#include <QObject>

#include "core/spec/estimates.h"
#include "views/format.h"

namespace hylo::views {

static constexpr int64_t kBf16 = 2;

const std::vector<QString>& model_fact_keys() {
  static const std::vector<QString> keys{"architecture", "layers",   "hidden", "heads",
                                         "kv_heads",     "head_dim", "vocab",  "params",
                                         "kv_per_token", "max_context", "rope"};
  return keys;
}

QString model_fact_label(const QString& key) {
  static const QMap<QString, QString> labels{
      {"architecture", QObject::tr("Architecture")}, {"layers", QObject::tr("Layers")},
      {"hidden", QObject::tr("Hidden size")},         {"heads", QObject::tr("Attention heads")},
      {"kv_heads", QObject::tr("KV heads")},          {"head_dim", QObject::tr("Head dim")},
      {"vocab", QObject::tr("Vocabulary")},           {"params", QObject::tr("Parameters")},
      {"kv_per_token", QObject::tr("KV cache / token (bf16)")},
      {"max_context", QObject::tr("Max context")},    {"rope", QObject::tr("RoPE")}};
  return labels.value(key, key);
}

QMap<QString, QString> model_facts(const ModelConfig& c) {
  QMap<QString, QString> f;
  f["architecture"] = QString::fromStdString(c.model_type);
  f["layers"] = QString::number(c.num_hidden_layers);
  f["hidden"] = QString::number(c.hidden_size);
  f["heads"] = QString::number(c.num_attention_heads);
  f["kv_heads"] = QString::number(c.num_key_value_heads);
  f["head_dim"] = QString::number(c.head_dim);
  f["vocab"] = QString::number(c.vocab_size);
  f["params"] = human_count(static_cast<double>(count_parameters(c).total()));
  f["kv_per_token"] = human_bytes(static_cast<double>(c.kv_bytes_per_token(kBf16)));
  f["max_context"] = QString::number(c.max_position_embeddings);
  QString rope = QObject::tr("θ %1").arg(c.rope_theta, 0, 'g', 8);
  const RopeScaling& r = c.rope_scaling;
  if (r.type != "default") {
    rope += QObject::tr(" · %1 ×%2").arg(QString::fromStdString(r.type)).arg(r.factor, 0, 'g', 6);
    if (r.original_max_position_embeddings > 0)
      rope += QObject::tr(" from %1").arg(r.original_max_position_embeddings);
  }
  f["rope"] = rope;
  return f;
}

QString layer_cache_text(const LayerSpec& spec) {
  const LayerCacheSize size = layer_cache_size(spec);
  if (size.per_token > 0)
    return QObject::tr("%1 / token").arg(human_bytes(static_cast<double>(size.per_token * kBf16)));
  return QObject::tr("%1 state")
      .arg(human_bytes(static_cast<double>((size.conv_state + size.recurrent_state) * kBf16)));
}

}  // namespace hylo::views
