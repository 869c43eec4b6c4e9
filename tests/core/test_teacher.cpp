// The Transformer teacher as the all-attention HybridModel, on tiny random Llama / Qwen2 / Qwen3
// shapes: cached decoding and chunked prefill against the full forward, a naive per-head attention
// against the mixer, bf16 against fp32, HF parameter names, generation against repeated forwards.
#include <QtTest>

#include <QTemporaryDir>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/infer/generate.h"
#include "core/io/checkpoint.h"
#include "core/model/model_io.h"
#include "core/model/hybrid_model.h"
#include "core/spec/error.h"

using namespace hylo;

namespace {

ModelConfig tiny_config(const std::string& family) {
  ModelConfig c;
  c.model_type = family;
  c.architecture = family == "llama" ? "LlamaForCausalLM" : family == "qwen2" ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM";
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  if (family == "qwen2") {
    c.attention_bias = true;
  } else if (family == "qwen3") {
    c.qk_norm = true;
    c.head_dim = 16;  // Qwen3 decouples head_dim from hidden / heads
    c.tie_word_embeddings = true;
  }
  return c;
}

// HF's init (std 0.02) leaves attention almost uniform; larger weights make masking and RoPE
// mistakes visible in the logits. Norm weights become non-trivial too.
std::shared_ptr<HybridModel> make_model(const ModelConfig& c, uint64_t seed = 0) {
  at::manual_seed(seed);
  auto m = std::make_shared<HybridModel>(c);
  at::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    auto& t = p.value();
    if (p.key().find("norm") != std::string::npos)
      t.uniform_(0.5, 1.5);
    else
      t.normal_(0.0, p.key().find("embed") != std::string::npos ? 1.0 : 0.3);
  }
  return m;
}

at::Tensor random_ids(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(V, {B, T}, at::kLong);
}

// max |a - b| / max(1, max |b|)
double rel_err(const at::Tensor& a, const at::Tensor& b) {
  auto bf = b.to(at::kDouble);
  const double scale = std::max(1.0, bf.abs().max().item<double>());
  return (a.to(at::kDouble) - bf).abs().max().item<double>() / scale;
}

const std::vector<std::string> kFamilies = {"llama", "qwen2", "qwen3"};

// Attention written from the definition, one head and one query at a time, with its own RoPE.
at::Tensor naive_attention(AttentionMixer& m, const at::Tensor& x, int64_t pos, double theta, double eps) {
  const auto& s = m.settings();
  const int64_t B = x.size(0), T = x.size(1), D = s.head_dim, H = s.num_heads, Hkv = s.num_kv_heads;
  auto lin = [](const torch::nn::Linear& l, const at::Tensor& in) {
    auto y = at::matmul(in, l->weight.t());
    return l->bias.defined() ? y + l->bias : y;
  };
  auto rms = [eps](const at::Tensor& v, const at::Tensor& w) { return w * v / (v.pow(2).mean(-1, true) + eps).sqrt(); };
  auto rotate = [&](at::Tensor v, int64_t p) {  // v: (D); pairs (i, i + D/2) turn by p * theta^(-2i/D)
    auto out = v.clone();
    for (int64_t i = 0; i < D / 2; ++i) {
      const double a = p * std::pow(theta, -2.0 * i / D);
      auto x1 = v[i], x2 = v[i + D / 2];
      out[i] = x1 * std::cos(a) - x2 * std::sin(a);
      out[i + D / 2] = x2 * std::cos(a) + x1 * std::sin(a);
    }
    return out;
  };
  auto q = lin(m.q_proj, x).view({B, T, H, D});
  auto k = lin(m.k_proj, x).view({B, T, Hkv, D});
  auto v = lin(m.v_proj, x).view({B, T, Hkv, D});
  if (m.q_norm) {
    q = rms(q, m.q_norm->weight);
    k = rms(k, m.k_norm->weight);
  }
  auto out = at::zeros({B, T, H, D}, x.options());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t g = h / (H / Hkv);  // the KV head this query head shares
      for (int64_t i = 0; i < T; ++i) {
        auto qi = rotate(q[b][i][h], pos + i);
        std::vector<at::Tensor> scores;
        for (int64_t j = 0; j <= i; ++j)  // causal: keys up to the query itself
          scores.push_back((qi * rotate(k[b][j][g], pos + j)).sum() / std::sqrt(static_cast<double>(D)));
        auto p = at::softmax(at::stack(scores), 0);
        for (int64_t j = 0; j <= i; ++j) out[b][i][h] += p[j] * v[b][j][g];
      }
    }
  return lin(m.o_proj, out.view({B, T, H * D}));
}

// Rewrites the checkpoint's tensors through `edit`, then expects load_model to name `tensor`.
void expectLoadError(const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit,
                     const std::string& tensor) {
  auto c = tiny_config("qwen2");
  auto model = make_model(c);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& p : model->named_parameters()) tensors.emplace_back(p.key(), p.value().detach());
  edit(tensors);
  QTemporaryDir tmp;
  write_checkpoint(tmp.path().toStdString(), c, tensors);
  try {
    load_model(tmp.path().toStdString(), at::kFloat, at::kCPU);
    QFAIL(("loaded a checkpoint with a bad " + tensor).c_str());
  } catch (const IoError& e) {
    QVERIFY2(std::string(e.what()).find(tensor) != std::string::npos, e.what());
    QVERIFY2(!e.file().empty(), e.what());
  }
}

}  // namespace

class TestTeacher : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { at::set_num_threads(2); }

  void parameterNamesAreHuggingFace() {
    auto llama = make_model(tiny_config("llama"));
    auto names = llama->named_parameters().keys();
    auto has = [&](const std::vector<std::string>& ns, const std::string& n) {
      return std::find(ns.begin(), ns.end(), n) != ns.end();
    };
    for (const char* n : {"model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                          "model.layers.1.self_attn.q_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                          "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight",
                          "model.layers.1.mlp.down_proj.weight", "model.norm.weight", "lm_head.weight"})
      QVERIFY2(has(names, n), n);
    QCOMPARE(names.size(), size_t(3 + 2 * 9));
    auto qwen2 = make_model(tiny_config("qwen2"))->named_parameters().keys();
    QVERIFY(has(qwen2, "model.layers.0.self_attn.k_proj.bias"));
    QVERIFY(!has(qwen2, "model.layers.0.self_attn.o_proj.bias"));
    auto qwen3 = make_model(tiny_config("qwen3"))->named_parameters().keys();
    QVERIFY(has(qwen3, "model.layers.1.self_attn.q_norm.weight"));
    QVERIFY(!has(qwen3, "lm_head.weight"));  // tied to the embeddings
  }

  void mixerMatchesNaiveAttention() {
    for (auto& family : kFamilies) {
      auto c = tiny_config(family);
      auto model = make_model(c, 3);
      auto& mixer = dynamic_cast<AttentionMixer&>(*model->layer(0).mixer);
      at::manual_seed(4);
      auto x = at::randn({2, 7, c.hidden_size});
      for (int64_t pos : {0, 11}) {
        at::NoGradGuard no_grad;
        auto got = mixer.forward(x, pos, nullptr);
        auto want = naive_attention(mixer, x, pos, c.rope_theta, c.rms_norm_eps);
        QVERIFY2(rel_err(got, want) < 1e-5, qPrintable(QString::fromStdString(family)));
      }
    }
  }

  void cachedDecodeEqualsFullForward() {
    for (auto& family : kFamilies) {
      auto c = tiny_config(family);
      auto model = make_model(c, 5);
      auto ids = random_ids(2, 16, c.vocab_size, 6);
      at::NoGradGuard no_grad;
      auto full = model->forward(ids);  // (2, 16, V)
      auto caches = model->make_caches(2, at::kFloat, at::kCPU);
      std::vector<at::Tensor> steps;
      for (int64_t t = 0; t < 16; ++t) steps.push_back(model->forward(ids.narrow(1, t, 1), t, &caches));
      QVERIFY2(rel_err(at::cat(steps, 1), full) < 1e-5, qPrintable(QString::fromStdString(family)));
      QCOMPARE(caches.length(), int64_t(16));
      // 2 (K and V) * batch * kv heads * tokens * head_dim * 4 bytes, per layer.
      const int64_t want = c.num_hidden_layers * 2 * 2 * c.num_key_value_heads * 16 * c.head_dim * 4;
      QCOMPARE(caches.bytes_by_kind().at("kv"), want);
      QCOMPARE(caches.bytes(), want);
    }
  }

  void chunkedPrefillEqualsFullForward() {
    auto c = tiny_config("qwen3");
    auto model = make_model(c, 7);
    auto ids = random_ids(1, 19, c.vocab_size, 8);
    at::NoGradGuard no_grad;
    auto full = model->forward(ids);
    for (std::vector<int64_t> cuts : std::vector<std::vector<int64_t>>{{1}, {9}, {18}, {3, 11}, {5, 6, 17}}) {
      auto caches = model->make_caches(1, at::kFloat, at::kCPU);
      std::vector<at::Tensor> parts;
      int64_t start = 0;
      cuts.push_back(19);
      for (int64_t end : cuts) {
        parts.push_back(model->forward(ids.narrow(1, start, end - start), start, &caches));
        start = end;
      }
      QVERIFY(rel_err(at::cat(parts, 1), full) < 1e-5);
    }
  }

  void cacheMustContinueItsPosition() {
    auto c = tiny_config("llama");
    auto model = make_model(c);
    auto caches = model->make_caches(1, at::kFloat, at::kCPU);
    at::NoGradGuard no_grad;
    model->forward(random_ids(1, 4, c.vocab_size, 1), 0, &caches);
    QVERIFY_EXCEPTION_THROWN(model->forward(random_ids(1, 1, c.vocab_size, 2), 7, &caches), ModelError);
  }

  void kvCacheGrowsGeometrically() {
    KVCache cache(1, at::kFloat, at::kCPU);
    int64_t reallocations = 0, last_capacity = 0;
    for (int64_t t = 0; t < 1000; ++t) {
      auto kv = at::full({1, 2, 1, 4}, static_cast<double>(t));
      auto [k, v] = cache.append(kv, kv);
      if (cache.capacity() != last_capacity) ++reallocations, last_capacity = cache.capacity();
      QCOMPARE(k.size(2), t + 1);
    }
    QVERIFY(reallocations <= 6);  // 64, 128, ..., 1024
    auto [k, v] = cache.append(at::zeros({1, 2, 0, 4}), at::zeros({1, 2, 0, 4}));
    QCOMPARE(k[0][1][999][3].item<float>(), 999.0f);  // old tokens survive the copies
    QCOMPARE(cache.bytes(), int64_t(2 * 2 * 1000 * 4 * 4));
  }

  void bf16CloseToFp32() {
    for (auto& family : kFamilies) {
      auto c = tiny_config(family);
      auto model = make_model(c, 9);
      auto ids = random_ids(1, 12, c.vocab_size, 10);
      at::NoGradGuard no_grad;
      auto ref = model->forward(ids);
      model->to(at::kBFloat16);
      auto got = model->forward(ids);
      QCOMPARE(got.scalar_type(), at::kBFloat16);
      // bf16 keeps ~3 significant digits; with these sharp test weights two layers drift ~5%,
      // while any real mismatch (mask, RoPE, cast) is O(1).
      const double err = rel_err(got, ref);
      QVERIFY2(err < 0.1, qPrintable(QString("%1: bf16 rel err %2").arg(family.c_str()).arg(err)));
    }
  }

  void backwardReachesEveryParameter() {
    auto c = tiny_config("qwen2");
    auto model = make_model(c);
    auto loss = model->forward(random_ids(2, 6, c.vocab_size, 3)).pow(2).mean();
    loss.backward();
    for (auto& p : model->named_parameters())
      QVERIFY2(p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0, p.key().c_str());
  }

  void greedyGenerateEqualsArgmaxOfFullForwards() {
    for (auto& family : kFamilies) {
      auto c = tiny_config(family);
      auto model = make_model(c, 11);
      std::vector<int64_t> prompt = {3, 14, 15, 92, 65};
      GenerationOptions o;
      o.max_new_tokens = 12;
      std::vector<int64_t> streamed;
      auto result = generate(*model, prompt, o, [&](int64_t t) { streamed.push_back(t); });
      QCOMPARE(result.tokens, streamed);
      std::vector<int64_t> seq = prompt, want;
      at::NoGradGuard no_grad;
      for (int i = 0; i < 12; ++i) {
        auto ids = at::tensor(seq, at::kLong).unsqueeze(0);
        want.push_back(model->forward(ids)[0][-1].argmax().item<int64_t>());
        seq.push_back(want.back());
      }
      QCOMPARE(result.tokens, want);
      // An eos id stops generation right after it is emitted.
      o.eos_token_ids = {want[3]};
      auto stopped = generate(*model, prompt, o);
      QVERIFY(stopped.stopped_on_eos);
      QCOMPARE(stopped.tokens.back(), want[3]);
      QVERIFY(stopped.tokens.size() <= 4);
    }
  }

  void samplingIsSeededAndRespectsFilters() {
    auto c = tiny_config("llama");
    auto model = make_model(c, 12);
    GenerationOptions o;
    o.max_new_tokens = 10;
    o.temperature = 1.0;
    o.seed = 42;
    auto a = generate(*model, {1, 2, 3}, o).tokens;
    QCOMPARE(generate(*model, {1, 2, 3}, o).tokens, a);
    // top_k = 1 and a tiny top_p both reduce sampling to argmax.
    GenerationOptions greedy;
    greedy.max_new_tokens = 10;
    auto g = generate(*model, {1, 2, 3}, greedy).tokens;
    o.top_k = 1;
    QCOMPARE(generate(*model, {1, 2, 3}, o).tokens, g);
    o.top_k = 0;
    o.top_p = 1e-6;
    QCOMPARE(generate(*model, {1, 2, 3}, o).tokens, g);
    // Filters leave only allowed tokens: top-k 3 draws only among the 3 largest logits.
    auto logits = at::tensor({0.1, 2.0, -1.0, 3.0, 2.5, 0.0}, at::kFloat);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    GenerationOptions k3;
    k3.temperature = 2.0;
    k3.top_k = 3;
    for (int i = 0; i < 50; ++i) {
      const int64_t t = pick_token(logits, k3, gen);
      QVERIFY(t == 1 || t == 3 || t == 4);
    }
  }

  void saveLoadRoundTripGivesIdenticalLogits() {
    for (auto& family : kFamilies) {
      auto c = tiny_config(family);
      auto model = make_model(c, 13);
      QTemporaryDir tmp;
      save_model(tmp.path().toStdString(), *model, c);
      auto loaded = load_model(tmp.path().toStdString(), at::kFloat, at::kCPU);
      auto ids = random_ids(2, 9, c.vocab_size, 14);
      at::NoGradGuard no_grad;
      QVERIFY(at::equal(loaded->forward(ids), model->forward(ids)));
      auto bf16 = load_model(tmp.path().toStdString(), at::kBFloat16, at::kCPU);
      QCOMPARE(bf16->output_weight().scalar_type(), at::kBFloat16);
    }
  }

  void loadRejectsMissingExtraAndMisshapenTensors() {
    const std::string victim = "model.layers.1.self_attn.k_proj.bias";
    expectLoadError([&](auto& ts) {
      ts.erase(std::remove_if(ts.begin(), ts.end(), [&](auto& t) { return t.first == victim; }), ts.end());
    }, victim);
    expectLoadError([&](auto& ts) {
      for (auto& t : ts)
        if (t.first == victim) t.second = at::zeros({t.second.size(0) + 1});
    }, victim);
    const std::string extra = "model.layers.0.self_attn.v_norm.weight";
    expectLoadError([&](auto& ts) { ts.emplace_back(extra, at::ones({8})); }, extra);
  }

  void badMixerSettingsNameLayer() {
    auto c = tiny_config("llama");
    c.layers = layer_specs(c);
    c.layers[1].kind = MixerKind::Mamba2;  // its settings left at their zero defaults
    try {
      HybridModel m(c);
      QFAIL("no error");
    } catch (const ModelError& e) {
      QCOMPARE(e.field(), std::string("layers[1].mamba2.num_heads"));
    }
    c.layers.pop_back();
    QVERIFY_EXCEPTION_THROWN(HybridModel{c}, ConfigError);
  }
};

QTEST_GUILESS_MAIN(TestTeacher)
#include "test_teacher.moc"
