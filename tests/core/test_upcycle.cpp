// Upcycling a tiny teacher: MLA at full rank reproduces the teacher's attention exactly and its
// error falls with the rank; Mamba2 / GDN get the attention blocks where the mixers read them and
// run finite; all-keep plans give the teacher's logits; save -> load gives the same logits;
// estimates equal the caches a real prefill fills; the HyLo 3.9% check; bad plans and a teacher
// missing a tensor fail before the output folder exists; the seed alone fixes the new weights.
#include <QtTest>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/io/checkpoint.h"
#include "core/model/gated_deltanet.h"
#include "core/model/layers.h"
#include "core/model/mamba2.h"
#include "core/model/mla.h"
#include "core/model/model_io.h"
#include "core/spec/error.h"
#include "core/spec/estimates.h"
#include "core/upcycle/linear_init.h"
#include "core/upcycle/mla_init.h"
#include "core/upcycle/upcycle.h"
#include "tests/core/mixer_test_util.h"

using hylo::test::rel_err;
namespace fs = std::filesystem;

namespace {

// hidden 64, 4 query heads of 16 over kv_heads KV heads, llama3 RoPE scaling (per-frequency, so the
// MLA rope dims must reproduce it exactly).
hylo::ModelConfig tiny_teacher(int64_t kv_heads, int64_t layers = 4) {
  hylo::ModelConfig c;
  c.model_type = "llama";
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 96;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_hidden_layers = layers;
  c.num_attention_heads = 4;
  c.num_key_value_heads = kv_heads;
  c.head_dim = 16;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000;
  c.rope_scaling.type = "llama3";
  c.rope_scaling.factor = 8;
  c.rope_scaling.original_max_position_embeddings = 64;
  return c;
}

// Weights ~ N(0, 0.02) make attention almost uniform; larger ones give it structure to reproduce.
std::shared_ptr<hylo::HybridModel> random_model(const hylo::ModelConfig& config, uint64_t seed) {
  at::manual_seed(static_cast<int64_t>(seed));
  auto model = std::make_shared<hylo::HybridModel>(config);
  at::NoGradGuard no_grad;
  for (auto& p : model->named_parameters())
    if (p.value().dim() == 2) p.value().normal_(0, 0.15);
  return model;
}

at::Tensor random_ids(const hylo::ModelConfig& config, int64_t T, uint64_t seed = 3) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randint(config.vocab_size, {1, T}, gen, at::kLong);
}

// ||a - b|| / ||b|| over all elements: the error a truncated SVD bounds (the max entry is noisier).
double fro_err(const at::Tensor& a, const at::Tensor& b) { return ((a - b).norm() / b.norm()).item<double>(); }

hylo::AttentionMixer& attention_of(hylo::HybridModel& model, int64_t layer) {
  return dynamic_cast<hylo::AttentionMixer&>(*model.layer(layer).mixer);
}

// MLA settings for the teacher's heads with the whole head_dim split into nope + rope.
hylo::MlaSettings mla_settings(const hylo::ModelConfig& t, int64_t rope, int64_t kv_rank, int64_t q_rank) {
  hylo::MlaSettings s;
  s.num_heads = t.num_attention_heads;
  s.num_kv_heads = t.num_key_value_heads;
  s.qk_rope_head_dim = rope;
  s.qk_nope_head_dim = t.head_dim - rope;
  s.v_head_dim = t.head_dim;
  s.kv_lora_rank = kv_rank;
  s.q_lora_rank = q_rank;
  return s;
}

// The MLA layer initialised from `attention` against the attention itself on x (1, T, C), fp64.
double mla_error(hylo::AttentionMixer& attention, const hylo::ModelConfig& t, const hylo::MlaSettings& s,
                 const at::Tensor& x) {
  hylo::MlaMixer mla(s, t);
  mla.to(at::kDouble);
  hylo::init_mla(mla, hylo::attention_weights(attention));
  at::NoGradGuard no_grad;
  return rel_err(mla.forward(x, 0, nullptr), attention.forward(x, 0, nullptr));
}

const char* kMixedPlan = R"(
default: mamba2
layers: {0: keep, 1: mla, 3: gdn}
mla: {kv_lora_rank: 16, q_lora_rank: 32, qk_rope_head_dim: 8, qk_nope_head_dim: 8, v_head_dim: 16}
gdn: {num_heads: 4, head_k_dim: 8, head_v_dim: 24, conv_kernel: 4, chunk_size: 16}
)";

hylo::LayerPlan plan_from(const std::string& yaml) { return hylo::LayerPlan::from_yaml(yaml, "plan.yaml"); }

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("hylo_test_upcycle_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  return dir;
}

void write_teacher(const fs::path& dir, const hylo::HybridModel& model, const std::string& skip = {}) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : model.named_parameters())
    if (p.key() != skip) tensors.emplace_back(p.key(), p.value().detach().clone());
  hylo::write_checkpoint(dir.string(), model.config(), tensors);
}

}  // namespace

class TestUpcycle : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void ropeDimsArePairsOfTheTeacher() {
    // Every (head_dim/rope)-th rotate_half pair: MLA dim a pairs with a + rope/2, as teacher dims i, i + D/2.
    QVERIFY(hylo::mla_rope_dims(16, 4) == (std::vector<int64_t>{0, 4, 8, 12}));
    QVERIFY(hylo::mla_rope_dims(16, 8) == (std::vector<int64_t>{0, 2, 4, 6, 8, 10, 12, 14}));
    QVERIFY(hylo::mla_dim_order(8, 4) == (std::vector<int64_t>{1, 3, 5, 7, 0, 2, 4, 6}));
    QVERIFY_EXCEPTION_THROWN(hylo::mla_rope_dims(16, 6), hylo::ModelError);
  }

  void mlaAtFullRankReproducesAttention() {
    // Exact only when MLA rotates every head dim as the teacher does (rope = head_dim, nope = 0)
    // and the one KV head gives the shared rope key; rank nope + v then keeps every KV row.
    const auto t = tiny_teacher(1, 1);
    auto teacher = random_model(t, 11);
    auto& attention = attention_of(*teacher, 0);
    attention.to(at::kDouble);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    auto x = at::randn({1, 40, t.hidden_size}, gen, at::kDouble);
    for (int64_t q_rank : {int64_t(0), t.hidden_size}) {
      const double err = mla_error(attention, t, mla_settings(t, t.head_dim, t.head_dim, q_rank), x);
      QVERIFY2(err < 1e-10, qPrintable(QString("q_rank %1: error %2").arg(q_rank).arg(err)));
    }
    // With nope dims the teacher rotated and MLA does not, full rank is no longer exact.
    QVERIFY(mla_error(attention, t, mla_settings(t, 8, 24, 0), x) > 1e-3);
  }

  void mlaCachedDecodeMatchesTheTeacher() {
    // The absorbed decode path of an upcycled layer against the teacher's full forward.
    const auto t = tiny_teacher(1, 1);
    auto teacher = random_model(t, 12);
    auto& attention = attention_of(*teacher, 0);
    attention.to(at::kDouble);
    hylo::MlaMixer mla(mla_settings(t, t.head_dim, t.head_dim, 0), t);
    mla.to(at::kDouble);
    hylo::init_mla(mla, hylo::attention_weights(attention));
    auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
    auto x = at::randn({1, 12, t.hidden_size}, gen, at::kDouble);
    at::NoGradGuard no_grad;
    auto cache = mla.make_cache(1, at::kDouble, at::kCPU);
    auto prefill = mla.forward(x.narrow(1, 0, 9), 0, cache.get());
    std::vector<at::Tensor> outs{prefill};
    for (int64_t p = 9; p < 12; ++p) outs.push_back(mla.forward(x.narrow(1, p, 1), p, cache.get()));
    QVERIFY(rel_err(at::cat(outs, 1), attention.forward(x, 0, nullptr)) < 1e-10);
  }

  void mlaErrorFallsWithRank() {
    const auto t = tiny_teacher(1, 1);
    auto teacher = random_model(t, 13);
    auto& attention = attention_of(*teacher, 0);
    attention.to(at::kDouble);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    auto x = at::randn({1, 32, t.hidden_size}, gen, at::kDouble);
    const auto falls = [&](int64_t rope, int64_t step, bool q_side, const at::Tensor& reference) {
      const int64_t full = q_side ? t.hidden_size : (t.head_dim - rope) + t.head_dim;
      const int64_t kv_full = (t.head_dim - rope) + t.head_dim;
      double previous = 1e300;
      QString trace;
      for (int64_t r = step; r <= full; r += step) {
        hylo::MlaMixer mla(mla_settings(t, rope, q_side ? kv_full : r, q_side ? r : 0), t);
        mla.to(at::kDouble);
        hylo::init_mla(mla, hylo::attention_weights(attention));
        at::NoGradGuard no_grad;
        const double err = fro_err(mla.forward(x, 0, nullptr), reference);
        trace += QString(" %1=%2").arg(r).arg(err, 0, 'g', 3);
        if (!(err < previous)) return "not falling:" + trace;
        previous = err;
      }
      return previous < 1e-10 ? QString() : "not exact at full rank:" + trace;
    };
    at::NoGradGuard no_grad;
    // Rope over the whole head: against the teacher itself, KV rank then query rank.
    const auto teacher_out = attention.forward(x, 0, nullptr);
    for (bool q_side : {false, true}) {
      const auto problem = falls(t.head_dim, 4, q_side, teacher_out);
      QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
    // A nope/rope split: the rank's share of the error, against the same split at full rank.
    hylo::MlaMixer full(mla_settings(t, 4, 28, 0), t);
    full.to(at::kDouble);
    hylo::init_mla(full, hylo::attention_weights(attention));
    const auto problem = falls(4, 4, false, full.forward(x, 0, nullptr));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
  }

  void rankByEnergyAndTruncationError() {
    auto s = at::tensor({4.0, 3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}, at::kDouble);  // energy 16+9+4+7
    QCOMPARE(hylo::truncation_error(s, 10), 0.0);
    QVERIFY(std::abs(hylo::truncation_error(s, 3) - std::sqrt(7.0 / 36.0)) < 1e-12);
    QCOMPARE(hylo::rank_for_energy(s, 0.5, 10), int64_t(8));   // 2 values reach 25/36, rounded up to 8
    QCOMPARE(hylo::rank_for_energy(s, 1.0, 10), int64_t(10));  // 16 > the limit: capped
    auto big = at::ones({40}, at::kDouble);
    QCOMPARE(hylo::rank_for_energy(big, 0.5, 40), int64_t(24));  // 20 values, rounded up to 24
  }

  void linearInitsPlaceTheAttentionBlocks() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 14);
    const auto student = hylo::upcycle(*teacher, plan_from(kMixedPlan));
    auto& model = *student.model;
    const auto w = hylo::attention_weights(attention_of(*teacher, 2));
    const int64_t C = t.hidden_size, Hkv = t.num_key_value_heads, D = t.head_dim;
    // Mamba2 (layer 2): in_proj rows [z | x <- W_v | B <- W_k | C <- W_q | dt], out_proj <- W_o.
    auto& m = dynamic_cast<hylo::Mamba2Mixer&>(*model.layer(2).mixer);
    const auto in = m.in_proj->weight.to(at::kDouble);
    const int64_t d_inner = m.settings().d_inner;
    QVERIFY(at::equal(in.narrow(0, d_inner, Hkv * D), w.v.to(at::kFloat).to(at::kDouble)));
    QVERIFY(at::equal(in.narrow(0, d_inner + Hkv * D, Hkv * D), w.k.to(at::kFloat).to(at::kDouble)));
    QVERIFY(at::equal(in.narrow(0, d_inner + 2 * Hkv * D, 4 * D), w.q.to(at::kFloat).to(at::kDouble)));
    QVERIFY(at::equal(m.out_proj->weight, w.o.to(at::kFloat)));
    // GDN (layer 3): key dim 32 < H*D = 64 takes the leading rows of Q and of K repeated to the
    // query heads (query head h reads KV head h / 2); value dim 96 > 64 keeps its extra rows random.
    const auto w3 = hylo::attention_weights(attention_of(*teacher, 3));
    auto& g = dynamic_cast<hylo::GatedDeltaNetMixer&>(*model.layer(3).mixer);
    QVERIFY(at::equal(g.q_proj->weight, w3.q.narrow(0, 0, 32).to(at::kFloat)));
    auto k_rep = w3.k.view({Hkv, 1, D, C}).expand({Hkv, 2, D, C}).reshape({-1, C}).to(at::kFloat);
    QVERIFY(at::equal(g.k_proj->weight, k_rep.narrow(0, 0, 32)));
    auto v_rep = w3.v.view({Hkv, 1, D, C}).expand({Hkv, 2, D, C}).reshape({-1, C}).to(at::kFloat);
    QVERIFY(at::equal(g.v_proj->weight.narrow(0, 0, 64), v_rep));
    QVERIFY(!at::equal(g.v_proj->weight.narrow(0, 64, 32), at::zeros({32, C})));
    QVERIFY(at::equal(g.out_proj->weight.narrow(1, 0, 64), w3.o.to(at::kFloat)));
    // Shared tensors are copies; the student runs finite.
    const auto tp = teacher->named_parameters();
    const auto sp = model.named_parameters();
    for (const char* name : {"model.embed_tokens.weight", "model.norm.weight", "model.layers.2.mlp.down_proj.weight",
                             "model.layers.3.input_layernorm.weight", "model.layers.0.self_attn.k_proj.weight"})
      QVERIFY2(at::equal(*tp.find(name), *sp.find(name)), name);
    at::NoGradGuard no_grad;
    QVERIFY(at::isfinite(model.forward(random_ids(t, 48))).all().item<bool>());
  }

  void identityConvPassesTheProjectionsThrough() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 15);
    hylo::UpcycleOptions options;
    options.identity_conv = true;
    const auto student = hylo::upcycle(*teacher, plan_from("default: mamba2\n"), options);
    auto& m = dynamic_cast<hylo::Mamba2Mixer&>(*student.model->layer(1).mixer);
    auto conv = m.conv1d->weight;  // (conv_dim, 1, K)
    const int64_t K = conv.size(2);
    QVERIFY(at::equal(conv.select(2, K - 1), at::ones_like(conv.select(2, K - 1))));
    QVERIFY(at::equal(conv.narrow(2, 0, K - 1), at::zeros_like(conv.narrow(2, 0, K - 1))));
  }

  void rankEnergyChoosesPerLayerRanks() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 16);
    hylo::UpcycleOptions options;
    options.rank_energy = 1.0;
    const auto student = hylo::upcycle(*teacher, plan_from("default: mla\nmla: {kv_lora_rank: 8}\n"), options);
    // Energy 1 keeps every singular value: min(C, H_kv * (nope + v)) = min(64, 2 * 24) = 48.
    for (const auto& spec : student.config.layers) QCOMPARE(spec.mla.kv_lora_rank, int64_t(48));
    options.rank_energy = 1.5;
    QVERIFY_EXCEPTION_THROWN(hylo::upcycle(*teacher, plan_from("default: mla\n"), options), hylo::ConfigError);
  }

  // The Fig. 6 ablation: the SVD init starts the student much closer to the teacher than random MLA.
  void randomMlaStartsFurtherFromTheTeacher() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 19);
    const auto plan = plan_from("default: keep\nlayers: {1: mla, 2: mla}\nmla: {kv_lora_rank: 32}\n");
    hylo::UpcycleOptions random;
    random.random_mla = true;
    const auto svd = hylo::upcycle(*teacher, plan), rnd = hylo::upcycle(*teacher, plan, random);
    at::NoGradGuard no_grad;
    const auto ids = random_ids(t, 40);
    const auto want = teacher->forward(ids);
    const double e_svd = (svd.model->forward(ids) - want).norm().item<double>() / want.norm().item<double>();
    const double e_rnd = (rnd.model->forward(ids) - want).norm().item<double>() / want.norm().item<double>();
    qInfo("relative logit error: SVD init %.3g, random MLA %.3g", e_svd, e_rnd);
    QVERIFY2(e_svd * 1.5 < e_rnd, qPrintable(QString("svd %1, random %2").arg(e_svd).arg(e_rnd)));
    // Only the MLA layers differ: the shared tensors are the teacher's in both.
    auto r = rnd.model->named_parameters();
    for (auto& item : svd.model->named_parameters())
      if (item.key().find("self_attn") == std::string::npos) QVERIFY2(at::equal(item.value(), *r.find(item.key())), item.key().c_str());
  }

  // The new mixers' random weights come from the seed: the same seed gives the same files byte for
  // byte (upcycle.json records it), another seed other weights in the new mixers only.
  void seedDeterminesTheStudent() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 21);
    const auto teacher_dir = fresh_dir("seed-teacher"), a = fresh_dir("seed-a"), b = fresh_dir("seed-b");
    write_teacher(teacher_dir, *teacher);
    hylo::UpcycleOptions seeded;
    seeded.seed = 5;
    const auto plan = plan_from(kMixedPlan);
    hylo::upcycle_checkpoint(teacher_dir.string(), plan, a.string(), at::kFloat, seeded);
    at::randn({64});  // the global generator moves on between the two upcycles
    hylo::upcycle_checkpoint(teacher_dir.string(), plan, b.string(), at::kFloat, seeded);
    auto bytes = [](const fs::path& f) {
      std::ifstream in(f, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    QVERIFY(bytes(a / "model.safetensors") == bytes(b / "model.safetensors"));
    const auto provenance = nlohmann::json::parse(bytes(a / "upcycle.json"));
    QCOMPARE(provenance.at("seed").get<int64_t>(), int64_t{5});

    seeded.seed = 6;
    const auto other = hylo::upcycle(*teacher, plan, seeded);
    auto second = other.model->named_parameters();
    int64_t differing = 0;
    for (auto& p : hylo::load_model(a.string(), at::kFloat, at::kCPU)->named_parameters()) {
      const std::string& key = p.key();
      const bool equal = at::equal(p.value(), *second.find(key));
      // Everything but the mixers of layers 1-3 (layer 0 keeps the teacher's attention).
      const bool shared = key.rfind("model.layers.", 0) != 0 || key.rfind("model.layers.0.", 0) == 0 ||
                          key.find("layernorm") != std::string::npos || key.find(".mlp.") != std::string::npos;
      if (shared) QVERIFY2(equal, key.c_str());
      differing += !equal;
    }
    QVERIFY2(differing > 0, "seeds 5 and 6 gave the same student");
  }

  void allKeepGivesTheTeacherExactly() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 17);
    const auto student = hylo::upcycle(*teacher, plan_from("default: keep\n"));
    at::NoGradGuard no_grad;
    const auto ids = random_ids(t, 30);
    QVERIFY(at::equal(student.model->forward(ids), teacher->forward(ids)));
  }

  void saveLoadGivesIdenticalLogits() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 18);
    const auto teacher_dir = fresh_dir("teacher"), out = fresh_dir("student");
    write_teacher(teacher_dir, *teacher);
    auto result = hylo::upcycle_checkpoint(teacher_dir.string(), plan_from(kMixedPlan), out.string(), at::kFloat);
    auto loaded = hylo::load_model(out.string(), at::kFloat, at::kCPU);
    QCOMPARE(QString::fromStdString(hylo::compact_name(loaded->config())), QString("1A1MLA1M21GDN"));
    at::NoGradGuard no_grad;
    const auto ids = random_ids(t, 40);
    QVERIFY(at::equal(loaded->forward(ids), result.student.model->forward(ids)));
    // The teacher read back from disk is the teacher.
    QVERIFY(at::equal(result.teacher->forward(ids), teacher->forward(ids)));
  }

  void estimatesEqualMeasuredCacheBytes() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 19);
    const std::vector<std::string> plans = {
        "default: keep\n",
        "default: mamba2\nlayers: {2: mla}\nmla: {kv_lora_rank: 16}\n",
        "default: gdn\nlayers: {0: mla, 3: mla}\ngdn: {num_heads: 2, head_k_dim: 8, head_v_dim: 16, chunk_size: 16}\n",
        kMixedPlan};
    const hylo::Precision fp32{4, 4, 4};
    at::NoGradGuard no_grad;
    for (const auto& yaml : plans) {
      const auto student = hylo::upcycle(*teacher, plan_from(yaml));
      for (int64_t T : {1, 37, 100}) {
        auto caches = student.model->make_caches(1, at::kFloat, at::kCPU);
        student.model->forward(random_ids(t, T), 0, &caches);
        int64_t kv = 0, state = 0;
        for (const auto& [kind, bytes] : caches.bytes_by_kind())
          (kind == "kv" || kind == "mla_latent" ? kv : state) += bytes;
        const auto e = hylo::estimate(student.config, T, fp32);
        const auto where = QString("%1 at %2 tokens").arg(QString::fromStdString(hylo::compact_name(student.config))).arg(T);
        QVERIFY2(kv == e.kv_bytes, qPrintable(where + QString(": kv %1 vs estimate %2").arg(kv).arg(e.kv_bytes)));
        QVERIFY2(state == e.state_bytes,
                 qPrintable(where + QString(": state %1 vs estimate %2").arg(state).arg(e.state_bytes)));
        QCOMPARE(caches.bytes(), kv + state);
      }
    }
  }

  void hyloKvShareOnALlama1BShape() {
    hylo::ModelConfig t = tiny_teacher(8, 16);
    t.hidden_size = 2048;
    t.intermediate_size = 8192;
    t.num_attention_heads = 32;
    t.head_dim = 64;
    t.vocab_size = 128256;
    const auto plan = plan_from(
        "default: mamba2\nlayers: {1: mla, 5: mla, 10: mla, 14: mla}\n"
        "mla: {kv_lora_rank: 128, q_lora_rank: 1344, qk_rope_head_dim: 32, qk_nope_head_dim: 32, v_head_dim: 64}\n");
    const auto student = hylo::upcycle_config(plan, t);
    QCOMPARE(QString::fromStdString(hylo::compact_name(student)), QString("4MLA12M2"));
    const double share = hylo::kv_fraction(student, t);
    QVERIFY2(std::abs(share - 0.039) <= 0.001, qPrintable(QString::number(share)));
    const auto e = hylo::estimate(student, 65536), te = hylo::estimate(t, 65536);
    qInfo("4MLA12M2 at 64K, bf16: KV %.1f MiB (teacher %.1f MiB, %.2f%%) + constant state %.1f MiB",
          e.kv_bytes / 1048576.0, te.kv_bytes / 1048576.0, 100 * share, e.state_bytes / 1048576.0);
    QVERIFY(e.state_bytes > 0);
  }

  void badPlansFailBeforeAnyFileIsWritten() {
    const auto t = tiny_teacher(2);
    auto teacher = random_model(t, 20);
    const auto teacher_dir = fresh_dir("teacher_bad"), out = fresh_dir("student_bad");
    write_teacher(teacher_dir, *teacher);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"num_layers: 6\ndefault: mamba2\n", "num_layers"},
        {"default: mla\nmla: {kv_lora_rank: 56}\n", "mla.kv_lora_rank"},  // > H_kv * (nope + v) = 48
        {"default: mla\nmla: {qk_rope_head_dim: 4, qk_nope_head_dim: 8}\n", "mla.qk_nope_head_dim"},
        {"default: mla\nmla: {qk_rope_head_dim: 6, qk_nope_head_dim: 10}\n", "mla.qk_rope_head_dim"},
        {"default: mla\nmla: {v_head_dim: 32}\n", "mla.v_head_dim"},
        {"default: mamba2\nmamba2: {d_state: 8}\n", "mamba2.d_state"},
        {"layers: {9: mla}\n", "layers.9"},
    };
    for (const auto& [yaml, field] : cases) {
      try {
        hylo::upcycle_checkpoint(teacher_dir.string(), plan_from(yaml), out.string(), at::kFloat);
        QFAIL(qPrintable("accepted: " + QString::fromStdString(yaml)));
      } catch (const hylo::ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.file()), QString("plan.yaml"));
        QCOMPARE(QString::fromStdString(e.field()), QString::fromStdString(field));
      }
      QVERIFY(!fs::exists(out));
    }
    QVERIFY_EXCEPTION_THROWN(plan_from("default: transformer\n"), hylo::ConfigError);
    // A teacher checkpoint missing one tensor.
    const auto broken = fresh_dir("teacher_broken");
    write_teacher(broken, *teacher, "model.layers.1.self_attn.k_proj.weight");
    try {
      hylo::upcycle_checkpoint(broken.string(), plan_from("default: mamba2\n"), out.string(), at::kFloat);
      QFAIL("a teacher without k_proj was accepted");
    } catch (const hylo::IoError& e) {
      QVERIFY2(QString::fromStdString(e.what()).contains("model.layers.1.self_attn.k_proj.weight"), e.what());
    }
    QVERIFY(!fs::exists(out));
    // An output folder holding files is never overwritten.
    fs::create_directories(out);
    { std::ofstream(out / "keep.txt") << "mine"; }
    QVERIFY_EXCEPTION_THROWN(
        hylo::upcycle_checkpoint(teacher_dir.string(), plan_from("default: mamba2\n"), out.string(), at::kFloat),
        hylo::IoError);
    QVERIFY(fs::exists(out / "keep.txt") && !fs::exists(out / "config.json"));
  }

  void cleanupTestCase() { fs::remove_all(fs::temp_directory_path() / ("hylo_test_upcycle_" + std::to_string(::getpid()))); }
};

QTEST_GUILESS_MAIN(TestUpcycle)
#include "test_upcycle.moc"
