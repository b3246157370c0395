// Convolution and batch-normalisation kernels for dralab's wasm backend, computed by oneDNN
// on the host CPU.
//
// The wasm backend keeps every tensor in its heap; the TypeScript side passes Float32Array
// views of that heap, so these kernels read and write the tensors in place (no copies).
// Layouts are tfjs's: activations NHWC, filters HWIO. oneDNN picks its own blocked filter
// layout (format_tag::any), so filters are reordered on the way in and filter gradients on
// the way out; both are small next to the activations.
//
// Primitives are built once per geometry and thread count and kept: a training step
// repeats the same few shapes thousands of times. Every call comes from the JavaScript
// main thread, so the cache needs no lock.
#include <node_api.h>
#include <omp.h>

#include <dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum Kind { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

// Geometry, in the order the TypeScript side packs it.
struct Geometry {
  int32_t batch, inH, inW, inC, outC, filterH, filterW, outH, outW, strideH, strideW,
      dilationH, dilationW, padTop, padLeft, padBottom, padRight;
  static constexpr size_t kFields = 17;
  size_t inputSize() const { return size_t(batch) * inH * inW * inC; }
  size_t outputSize() const { return size_t(batch) * outH * outW * outC; }
  size_t filterSize() const { return size_t(filterH) * filterW * inC * outC; }
};

struct Runtime {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

Runtime& runtime() {
  static Runtime instance;
  return instance;
}

// One geometry's primitives and the memory objects they run on; the user-layout memories
// get their data handles set per call.
struct ConvPlan {
  dnnl::primitive conv;
  dnnl::reorder filterReorder;  // user HWIO -> oneDNN's layout (or back, for gradients)
  memory userInput, userOutput, userFilter, blockedFilter;
  bool filterNeedsReorder = false;
};

std::map<std::vector<int32_t>, std::unique_ptr<ConvPlan>> plans;

ConvPlan& planFor(Kind kind, const Geometry& g) {
  std::vector<int32_t> key(reinterpret_cast<const int32_t*>(&g),
                           reinterpret_cast<const int32_t*>(&g) + Geometry::kFields);
  key.push_back(kind);
  auto found = plans.find(key);
  if (found != plans.end()) return *found->second;

  auto& rt = runtime();
  // oneDNN's dims are N, C, H, W whatever the memory layout; the tags give the layout.
  memory::dims src{g.batch, g.inC, g.inH, g.inW};
  memory::dims dst{g.batch, g.outC, g.outH, g.outW};
  memory::dims wei{g.outC, g.inC, g.filterH, g.filterW};
  memory::dims strides{g.strideH, g.strideW};
  // oneDNN counts dilation from 0 (no gap); tfjs from 1.
  memory::dims dilates{g.dilationH - 1, g.dilationW - 1};
  memory::dims padL{g.padTop, g.padLeft}, padR{g.padBottom, g.padRight};
  memory::desc srcMd(src, dt::f32, tag::nhwc), dstMd(dst, dt::f32, tag::nhwc);
  memory::desc userWeiMd(wei, dt::f32, tag::hwio), anyWeiMd(wei, dt::f32, tag::any);

  using dnnl::algorithm;
  using dnnl::prop_kind;
  dnnl::convolution_forward::desc fwdDesc(prop_kind::forward_training, algorithm::convolution_direct,
                                          srcMd, anyWeiMd, dstMd, strides, dilates, padL, padR);
  dnnl::convolution_forward::primitive_desc fwdPd(fwdDesc, rt.engine);

  auto plan = std::make_unique<ConvPlan>();
  plan->userInput = memory(kind == kBackwardData ? dstMd : srcMd, rt.engine, nullptr);
  plan->userFilter = memory(userWeiMd, rt.engine, nullptr);
  memory::desc blocked;
  if (kind == kForward) {
    plan->conv = dnnl::convolution_forward(fwdPd);
    blocked = fwdPd.weights_desc();
    plan->userOutput = memory(dstMd, rt.engine, nullptr);
  } else if (kind == kBackwardData) {
    dnnl::convolution_backward_data::desc d(algorithm::convolution_direct, srcMd, anyWeiMd, dstMd,
                                            strides, dilates, padL, padR);
    dnnl::convolution_backward_data::primitive_desc pd(d, rt.engine, fwdPd);
    plan->conv = dnnl::convolution_backward_data(pd);
    blocked = pd.weights_desc();
    plan->userOutput = memory(srcMd, rt.engine, nullptr);
  } else {
    dnnl::convolution_backward_weights::desc d(algorithm::convolution_direct, srcMd, anyWeiMd, dstMd,
                                               strides, dilates, padL, padR);
    dnnl::convolution_backward_weights::primitive_desc pd(d, rt.engine, fwdPd);
    plan->conv = dnnl::convolution_backward_weights(pd);
    blocked = pd.diff_weights_desc();
    plan->userOutput = memory(dstMd, rt.engine, nullptr);  // diff_dst, an input here
  }
  plan->filterNeedsReorder = blocked != userWeiMd;
  if (plan->filterNeedsReorder) {
    plan->blockedFilter = memory(blocked, rt.engine);
    plan->filterReorder = kind == kBackwardWeights ? dnnl::reorder(plan->blockedFilter, plan->userFilter)
                                                   : dnnl::reorder(plan->userFilter, plan->blockedFilter);
  } else {
    plan->blockedFilter = plan->userFilter;
  }
  auto& stored = *plan;
  plans.emplace(std::move(key), std::move(plan));
  return stored;
}

// Runs one convolution. For kForward: a = x, b = filter, out = y. For kBackwardData:
// a = dy, b = filter, out = dx. For kBackwardWeights: a = x, b = dy, out = dFilter.
void runConv(Kind kind, const Geometry& g, float* a, float* b, float* out) {
  auto& rt = runtime();
  auto& p = planFor(kind, g);
  if (kind == kBackwardWeights) {
    p.userInput.set_data_handle(a);
    p.userOutput.set_data_handle(b);
    p.userFilter.set_data_handle(out);
    p.conv.execute(rt.stream, {{DNNL_ARG_SRC, p.userInput},
                               {DNNL_ARG_DIFF_DST, p.userOutput},
                               {DNNL_ARG_DIFF_WEIGHTS, p.blockedFilter}});
    if (p.filterNeedsReorder) p.filterReorder.execute(rt.stream, p.blockedFilter, p.userFilter);
  } else {
    p.userInput.set_data_handle(a);
    p.userFilter.set_data_handle(b);
    p.userOutput.set_data_handle(out);
    if (p.filterNeedsReorder) p.filterReorder.execute(rt.stream, p.userFilter, p.blockedFilter);
    if (kind == kForward) {
      p.conv.execute(rt.stream, {{DNNL_ARG_SRC, p.userInput},
                                 {DNNL_ARG_WEIGHTS, p.blockedFilter},
                                 {DNNL_ARG_DST, p.userOutput}});
    } else {
      p.conv.execute(rt.stream, {{DNNL_ARG_DIFF_DST, p.userInput},
                                 {DNNL_ARG_WEIGHTS, p.blockedFilter},
                                 {DNNL_ARG_DIFF_SRC, p.userOutput}});
    }
  }
  rt.stream.wait();
}

// ---- Batch normalisation (training) -------------------------------------------------------
//
// Forward: y = gamma (x - mean) / sqrt(var + eps) + beta over N, H, W per channel, with the
// batch mean and biased variance as outputs (the caller turns them into running statistics).
// Backward: dx, dgamma and dbeta from x, dy and the saved mean and variance. One pass each
// way where the composite of tf ops takes a dozen over the whole tensor.

enum BatchNormKind { kBatchNormForward = 0, kBatchNormBackward = 1 };

struct BatchNormPlan {
  dnnl::primitive prim;
  memory data, other, out, scale, shift, mean, variance, diffScale, diffShift;
};

std::map<std::vector<int64_t>, std::unique_ptr<BatchNormPlan>> batchNormPlans;

BatchNormPlan& batchNormPlanFor(BatchNormKind kind, int32_t n, int32_t h, int32_t w, int32_t c, float eps) {
  int32_t epsBits;
  std::memcpy(&epsBits, &eps, sizeof eps);
  std::vector<int64_t> key{kind, n, h, w, c, epsBits};
  auto found = batchNormPlans.find(key);
  if (found != batchNormPlans.end()) return *found->second;
  auto& rt = runtime();
  memory::desc dataMd({n, c, h, w}, dt::f32, tag::nhwc);
  memory::desc vecMd({c}, dt::f32, tag::a);
  auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  dnnl::batch_normalization_forward::desc fwd(dnnl::prop_kind::forward_training, dataMd, eps, flags);
  dnnl::batch_normalization_forward::primitive_desc fwdPd(fwd, rt.engine);
  auto plan = std::make_unique<BatchNormPlan>();
  if (kind == kBatchNormForward) {
    plan->prim = dnnl::batch_normalization_forward(fwdPd);
  } else {
    dnnl::batch_normalization_backward::desc bwd(dnnl::prop_kind::backward, dataMd, dataMd, eps, flags);
    dnnl::batch_normalization_backward::primitive_desc bwdPd(bwd, rt.engine, fwdPd);
    plan->prim = dnnl::batch_normalization_backward(bwdPd);
  }
  for (memory* m : {&plan->data, &plan->other, &plan->out}) *m = memory(dataMd, rt.engine, nullptr);
  for (memory* m : {&plan->scale, &plan->shift, &plan->mean, &plan->variance, &plan->diffScale, &plan->diffShift}) {
    *m = memory(vecMd, rt.engine, nullptr);
  }
  // oneDNN 2.6's backward asks for a shift argument it never reads; it gets a buffer of
  // its own.
  if (kind == kBatchNormBackward) plan->shift = memory(vecMd, rt.engine);
  auto& stored = *plan;
  batchNormPlans.emplace(std::move(key), std::move(plan));
  return stored;
}

// ---- N-API glue ------------------------------------------------------------------------

struct ApiError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw ApiError(what);
}

// The data of a typed array argument, checked for its element type and length.
template <typename T>
T* typedArrayData(napi_env env, napi_value value, napi_typedarray_type expected, size_t length,
                  const char* name) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), name);
  if (!isTyped) throw ApiError(std::string(name) + " must be a typed array");
  napi_typedarray_type type;
  size_t count = 0;
  void* data = nullptr;
  check(env, napi_get_typedarray_info(env, value, &type, &count, &data, nullptr, nullptr), name);
  if (type != expected) throw ApiError(std::string(name) + " has the wrong element type");
  if (count != length) {
    throw ApiError(std::string(name) + " holds " + std::to_string(count) + " elements, expected " +
                   std::to_string(length));
  }
  return static_cast<T*>(data);
}

// conv2d(kind, geometry: Int32Array(17), a: Float32Array, b: Float32Array, out: Float32Array)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  try {
    size_t argc = 5;
    napi_value argv[5];
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    if (argc != 5) throw ApiError("conv2d takes 5 arguments");
    int32_t kindValue = -1;
    check(env, napi_get_value_int32(env, argv[0], &kindValue), "kind");
    if (kindValue < kForward || kindValue > kBackwardWeights) throw ApiError("unknown convolution kind");
    auto kind = static_cast<Kind>(kindValue);
    Geometry g;
    std::memcpy(&g, typedArrayData<int32_t>(env, argv[1], napi_int32_array, Geometry::kFields, "geometry"),
                sizeof(Geometry));
    size_t aSize = kind == kBackwardData ? g.outputSize() : g.inputSize();
    size_t bSize = kind == kBackwardWeights ? g.outputSize() : g.filterSize();
    size_t outSize = kind == kForward ? g.outputSize() : kind == kBackwardData ? g.inputSize() : g.filterSize();
    float* a = typedArrayData<float>(env, argv[2], napi_float32_array, aSize, "first input");
    float* b = typedArrayData<float>(env, argv[3], napi_float32_array, bSize, "second input");
    float* out = typedArrayData<float>(env, argv[4], napi_float32_array, outSize, "output");
    runConv(kind, g, a, b, out);
    return nullptr;
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN conv2d: ") + e.what()).c_str());
    return nullptr;
  }
}

// batchNormForward(dims: Int32Array(4) NHWC, eps, x, gamma, beta, y, mean, variance)
// batchNormBackward(dims, eps, x, dy, mean, variance, gamma, dx, dgamma, dbeta)
napi_value BatchNorm(napi_env env, napi_callback_info info, BatchNormKind kind) {
  try {
    const size_t expected = kind == kBatchNormForward ? 8 : 10;
    size_t argc = 10;
    napi_value argv[10];
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    if (argc != expected) throw ApiError("batch norm takes " + std::to_string(expected) + " arguments");
    const int32_t* dims = typedArrayData<int32_t>(env, argv[0], napi_int32_array, 4, "dims");
    const int32_t n = dims[0], h = dims[1], w = dims[2], c = dims[3];
    if (n < 1 || h < 1 || w < 1 || c < 1) throw ApiError("batch norm needs a non-empty NHWC tensor");
    double epsValue = 0;
    check(env, napi_get_value_double(env, argv[1], &epsValue), "eps");
    if (!(epsValue > 0)) throw ApiError("eps must be positive");
    const size_t size = size_t(n) * h * w * c, channels = size_t(c);
    auto data = [&](size_t i, size_t length, const char* name) {
      return typedArrayData<float>(env, argv[i], napi_float32_array, length, name);
    };
    auto& rt = runtime();
    auto& p = batchNormPlanFor(kind, n, h, w, c, static_cast<float>(epsValue));
    if (kind == kBatchNormForward) {
      p.data.set_data_handle(data(2, size, "x"));
      p.scale.set_data_handle(data(3, channels, "gamma"));
      p.shift.set_data_handle(data(4, channels, "beta"));
      p.out.set_data_handle(data(5, size, "y"));
      p.mean.set_data_handle(data(6, channels, "mean"));
      p.variance.set_data_handle(data(7, channels, "variance"));
      p.prim.execute(rt.stream, {{DNNL_ARG_SRC, p.data}, {DNNL_ARG_SCALE, p.scale}, {DNNL_ARG_SHIFT, p.shift},
                                 {DNNL_ARG_DST, p.out}, {DNNL_ARG_MEAN, p.mean}, {DNNL_ARG_VARIANCE, p.variance}});
    } else {
      p.data.set_data_handle(data(2, size, "x"));
      p.other.set_data_handle(data(3, size, "dy"));
      p.mean.set_data_handle(data(4, channels, "mean"));
      p.variance.set_data_handle(data(5, channels, "variance"));
      p.scale.set_data_handle(data(6, channels, "gamma"));
      p.out.set_data_handle(data(7, size, "dx"));
      p.diffScale.set_data_handle(data(8, channels, "dgamma"));
      p.diffShift.set_data_handle(data(9, channels, "dbeta"));
      p.prim.execute(rt.stream, {{DNNL_ARG_SRC, p.data}, {DNNL_ARG_DIFF_DST, p.other}, {DNNL_ARG_MEAN, p.mean},
                                 {DNNL_ARG_VARIANCE, p.variance}, {DNNL_ARG_SCALE, p.scale}, {DNNL_ARG_SHIFT, p.shift},
                                 {DNNL_ARG_DIFF_SRC, p.out},
                                 {DNNL_ARG_DIFF_SCALE, p.diffScale}, {DNNL_ARG_DIFF_SHIFT, p.diffShift}});
    }
    rt.stream.wait();
    return nullptr;
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN batch norm: ") + e.what()).c_str());
    return nullptr;
  }
}

napi_value BatchNormForward(napi_env env, napi_callback_info info) { return BatchNorm(env, info, kBatchNormForward); }
napi_value BatchNormBackward(napi_env env, napi_callback_info info) { return BatchNorm(env, info, kBatchNormBackward); }

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t threads = 1;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1) {
    napi_throw_error(env, nullptr, "setThreads takes a positive integer");
    return nullptr;
  }
  // A primitive splits its work for the thread count it was built under, so plans built
  // for another count are dropped (they would keep running on that many threads).
  if (threads != omp_get_max_threads()) {
    plans.clear();
    batchNormPlans.clear();
  }
  omp_set_num_threads(threads);
  return nullptr;
}

napi_value Describe(napi_env env, napi_callback_info) {
  const dnnl_version_t* v = dnnl_version();
  std::string text = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                     std::to_string(v->patch) + ", " + std::to_string(omp_get_max_threads()) + " OpenMP threads";
  napi_value result;
  napi_create_string_utf8(env, text.c_str(), text.size(), &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormForward", nullptr, BatchNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormBackward", nullptr, BatchNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"describe", nullptr, Describe, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
