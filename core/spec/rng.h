// A small deterministic random source (SplitMix64, Steele et al. 2014) with our own bounded draws
// and shuffle: std::uniform_int_distribution and std::shuffle differ between standard libraries,
// and data order must be identical on every machine for a given seed.
#pragma once
#include <cstdint>
#include <vector>

namespace hylo {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // Seed derived from several integers (seed, epoch, index...), so streams are independent.
  static Rng derive(uint64_t a, uint64_t b, uint64_t c = 0, uint64_t d = 0) {
    Rng r(a);
    uint64_t s = r.next() ^ b;
    s = Rng(s).next() ^ c;
    s = Rng(s).next() ^ d;
    return Rng(Rng(s).next());
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) without modulo bias (rejection on the top of the range). n > 0.
  uint64_t below(uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next(); while (x >= limit);
    return x % n;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  template <class T>
  void shuffle(std::vector<T>& v) {  // Fisher-Yates
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  uint64_t state_;
};

}  // namespace hylo
