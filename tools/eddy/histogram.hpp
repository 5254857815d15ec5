// A latency histogram for `eddy bench` and `eddy fetch`: HdrHistogram's log-linear layout
// with 64 sub-buckets per power of two, so any recorded value is known to within 1/64
// (1.6%) in constant memory, whatever the range (a microsecond to days). Recording is an
// increment; histograms of several threads merge by adding their counts.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace eddy::cli {

class Histogram {
 public:
  void record(std::uint64_t value) {
    std::size_t i = index(value);
    if (i >= counts_.size()) counts_.resize(i + 1, 0);
    ++counts_[i];
    ++count_;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    double v = static_cast<double>(value);
    sum_ += v;
    sum_sq_ += v * v;
  }

  void merge(const Histogram& o) {
    if (o.counts_.size() > counts_.size()) counts_.resize(o.counts_.size(), 0);
    for (std::size_t i = 0; i < o.counts_.size(); ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
    sum_ += o.sum_;
    sum_sq_ += o.sum_sq_;
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double stdev() const {
    if (count_ < 2) return 0.0;
    double m = mean();
    return std::sqrt(std::max(0.0, sum_sq_ / static_cast<double>(count_) - m * m));
  }

  // The smallest recorded value such that at least `p` (0..1) of all values are <= it
  // (to the bucket's precision; clamped to the exact min and max).
  std::uint64_t percentile(double p) const {
    if (!count_) return 0;
    auto want = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_)));
    want = std::clamp<std::uint64_t>(want, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= want) return std::clamp(upper(i), min(), max_);
    }
    return max_;
  }

  // Calls f(value, count) for every non-empty bucket, in increasing order of value (the
  // bucket's lowest value).
  template <class F>
  void each(F f) const {
    for (std::size_t i = 0; i < counts_.size(); ++i)
      if (counts_[i]) f(lower(i), counts_[i]);
  }

 private:
  static constexpr unsigned kSubBits = 7;  // 128 linear values, then 64 per power of two
  static std::size_t index(std::uint64_t v) {
    if (v < (1u << kSubBits)) return static_cast<std::size_t>(v);
    unsigned e = static_cast<unsigned>(std::bit_width(v)) - kSubBits;
    return e * 64 + static_cast<std::size_t>(v >> e);
  }
  static std::uint64_t lower(std::size_t i) {
    if (i < (1u << kSubBits)) return i;
    std::size_t e = (i - 64) / 64;
    return static_cast<std::uint64_t>(i - e * 64) << e;
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < (1u << kSubBits)) return i;
    std::size_t e = (i - 64) / 64;
    return ((static_cast<std::uint64_t>(i - e * 64) + 1) << e) - 1;
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX, max_ = 0;
  double sum_ = 0, sum_sq_ = 0;
};

}  // namespace eddy::cli
