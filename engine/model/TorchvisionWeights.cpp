#include "model/TorchvisionWeights.hpp"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/Error.hpp"
#include "core/Files.hpp"

namespace taxon::model {
namespace {

bool isClassifierKey(const std::string& key) {
  return key.rfind("fc.", 0) == 0 || key.rfind("AuxLogits.fc.", 0) == 0;
}

bool isAuxKey(const std::string& key) {
  return key.rfind("AuxLogits.", 0) == 0;
}

std::string sizesText(const torch::Tensor& tensor) {
  std::ostringstream text;
  text << tensor.sizes();
  return text.str();
}

// "a, b, c and 7 more"
std::string keyList(const std::vector<std::string>& keys) {
  constexpr std::size_t kShown = 8;
  std::string text;
  for (std::size_t i = 0; i < keys.size() && i < kShown; ++i) {
    text += (i == 0 ? "" : ", ") + keys[i];
  }
  if (keys.size() > kShown) {
    text += " and " + std::to_string(keys.size() - kShown) + " more";
  }
  return text;
}

void addStateOf(const std::string& prefix, const torch::nn::Module& module,
                torch::OrderedDict<std::string, torch::Tensor>& out) {
  for (const auto& item : module.named_parameters(/*recurse=*/false)) {
    out.insert(prefix + item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/false)) {
    out.insert(prefix + item.key(), item.value());
  }
  for (const auto& child : module.named_children()) {
    addStateOf(prefix + child.key() + ".", *child.value(), out);
  }
}

// A reader for the pickles torch.save writes (protocols 2 to 5), enough for dicts of tensors.
// LibTorch's own pickle_load turns collections.OrderedDict, the type of every state_dict, into
// None, so it cannot read torch.save(model.state_dict()).
struct Value {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kTensor };
  Kind kind = Kind::kNone;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;  // kString; kGlobal: "module.name"
  std::vector<std::shared_ptr<Value>> items;
  std::vector<std::pair<std::shared_ptr<Value>, std::shared_ptr<Value>>> dict;
  torch::Tensor tensor;
};
using ValuePtr = std::shared_ptr<Value>;

ValuePtr makeValue(Value::Kind kind) {
  auto value = std::make_shared<Value>();
  value->kind = kind;
  return value;
}

c10::ScalarType storageType(const std::string& global) {
  static const std::map<std::string, c10::ScalarType> kTypes = {
      {"torch.FloatStorage", c10::kFloat}, {"torch.DoubleStorage", c10::kDouble},
      {"torch.HalfStorage", c10::kHalf},   {"torch.BFloat16Storage", c10::kBFloat16},
      {"torch.LongStorage", c10::kLong},   {"torch.IntStorage", c10::kInt},
      {"torch.ShortStorage", c10::kShort}, {"torch.CharStorage", c10::kChar},
      {"torch.ByteStorage", c10::kByte},   {"torch.BoolStorage", c10::kBool}};
  const auto found = kTypes.find(global);
  if (found == kTypes.end()) {
    throw std::runtime_error("unsupported storage type " + global);
  }
  return found->second;
}

std::vector<std::int64_t> intList(const ValuePtr& tuple) {
  std::vector<std::int64_t> out;
  for (const auto& item : tuple->items) {
    out.push_back(item->integer);
  }
  return out;
}

// A record of the archive, refused before anything is allocated when the archive claims it holds
// more than `fileBytes` (torch.save stores records uncompressed, so none is larger than the file:
// a larger claim is a damaged or hostile file, which must not make us allocate what it says).
std::tuple<at::DataPtr, std::size_t> readRecord(caffe2::serialize::PyTorchStreamReader& reader,
                                                const std::string& name, std::size_t fileBytes) {
  if (reader.getRecordSize(name) > fileBytes) {
    throw std::runtime_error("record " + name + " claims more bytes than the file holds");
  }
  return reader.getRecord(name);
}

class Unpickler {
 public:
  Unpickler(const char* data, std::size_t size, caffe2::serialize::PyTorchStreamReader& reader,
            std::size_t fileBytes)
      : data_(data), size_(size), reader_(reader), fileBytes_(fileBytes) {}

  ValuePtr run() {
    while (true) {
      const auto op = static_cast<std::uint8_t>(byte());
      if (op == '.') {  // STOP
        return pop();
      }
      if (!pushScalar(op) && !buildStructure(op)) {
        throw std::runtime_error("unsupported pickle opcode " + std::to_string(op));
      }
    }
  }

 private:
  // Framing and single values: protocol, frames, None, booleans, numbers, strings. Returns false
  // for an opcode it does not know.
  bool pushScalar(std::uint8_t op) {
    switch (op) {
      case 0x80:  // PROTO
        byte();
        return true;
      case 0x95:  // FRAME
        bytes(8);
        return true;
      case 'N':  // NONE
        push(makeValue(Value::Kind::kNone));
        return true;
      case 0x88:  // NEWTRUE
        pushBool(true);
        return true;
      case 0x89:  // NEWFALSE
        pushBool(false);
        return true;
      case 'K':  // BININT1
        pushInt(static_cast<std::uint8_t>(byte()));
        return true;
      case 'M':  // BININT2
        pushInt(static_cast<std::int64_t>(little(2)));
        return true;
      case 'J':  // BININT
        pushInt(static_cast<std::int32_t>(little(4)));
        return true;
      case 0x8a:  // LONG1
        pushLong();
        return true;
      case 'G':  // BINFLOAT
        pushFloat();
        return true;
      case 'X':  // BINUNICODE
        pushString(bytes(little(4)));
        return true;
      case 0x8c:  // SHORT_BINUNICODE
        pushString(bytes(static_cast<std::uint8_t>(byte())));
        return true;
      case 0x8d:  // BINUNICODE8
        pushString(bytes(little(8)));
        return true;
      case 'T':
      case 'B':  // BINSTRING, BINBYTES
        pushString(bytes(little(4)));
        return true;
      case 'U':
      case 'C':  // SHORT_BINSTRING, SHORT_BINBYTES
        pushString(bytes(static_cast<std::uint8_t>(byte())));
        return true;
      default:
        return false;
    }
  }

  // Marks, tuples, lists, dicts, the memo, globals, reduce and persistent ids. Returns false for an
  // opcode it does not know.
  bool buildStructure(std::uint8_t op) {
    switch (op) {
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return true;
      case ')':  // EMPTY_TUPLE
        push(makeValue(Value::Kind::kTuple));
        return true;
      case 0x85:  // TUPLE1
        tupleOf(1);
        return true;
      case 0x86:  // TUPLE2
        tupleOf(2);
        return true;
      case 0x87:  // TUPLE3
        tupleOf(3);
        return true;
      case 't':  // TUPLE
        tupleOf(stack_.size() - popMark());
        return true;
      case ']':  // EMPTY_LIST
        push(makeValue(Value::Kind::kList));
        return true;
      case '}':  // EMPTY_DICT
        push(makeValue(Value::Kind::kDict));
        return true;
      case 'a': {  // APPEND
        auto item = pop();
        top()->items.push_back(item);
        return true;
      }
      case 'e':  // APPENDS
        appends();
        return true;
      case 's': {  // SETITEM
        auto v = pop();
        auto k = pop();
        top()->dict.emplace_back(k, v);
        return true;
      }
      case 'u':  // SETITEMS
        setItems();
        return true;
      case 'q':  // BINPUT
        memo_[static_cast<std::uint8_t>(byte())] = top();
        return true;
      case 'r':  // LONG_BINPUT
        memo_[little(4)] = top();
        return true;
      case 0x94:  // MEMOIZE
        memo_[memo_.size()] = top();
        return true;
      case 'h':  // BINGET
        push(memo(static_cast<std::uint8_t>(byte())));
        return true;
      case 'j':  // LONG_BINGET
        push(memo(little(4)));
        return true;
      case 'c': {  // GLOBAL
        auto module = line();
        pushGlobal(module + "." + line());
        return true;
      }
      case 0x93: {  // STACK_GLOBAL
        auto name = pop();
        auto module = pop();
        pushGlobal(module->text + "." + name->text);
        return true;
      }
      case 'R':  // REDUCE
        reduce();
        return true;
      case 'Q':  // BINPERSID
        persistentLoad();
        return true;
      case 'b':  // BUILD: the state of an OrderedDict (_metadata), unused
        pop();
        return true;
      default:
        return false;
    }
  }

  char byte() {
    if (position_ >= size_) {
      throw std::runtime_error("the pickle ends early");
    }
    return data_[position_++];
  }
  std::string bytes(std::uint64_t count) {
    if (count > size_ - position_) {
      throw std::runtime_error("the pickle ends early");
    }
    std::string out(data_ + position_, count);
    position_ += count;
    return out;
  }
  std::uint64_t little(int count) {
    const auto raw = bytes(static_cast<std::uint64_t>(count));
    std::uint64_t value = 0;
    for (int i = count - 1; i >= 0; --i) {
      value = (value << 8) | static_cast<std::uint8_t>(raw[static_cast<std::size_t>(i)]);
    }
    return value;
  }
  std::string line() {
    std::string out;
    for (char c = byte(); c != '\n'; c = byte()) {
      out += c;
    }
    return out;
  }
  void push(ValuePtr value) { stack_.push_back(std::move(value)); }
  ValuePtr pop() {
    if (stack_.empty()) {
      throw std::runtime_error("the pickle's stack underflows");
    }
    auto value = stack_.back();
    stack_.pop_back();
    return value;
  }
  const ValuePtr& top() {
    if (stack_.empty()) {
      throw std::runtime_error("the pickle's stack underflows");
    }
    return stack_.back();
  }
  std::size_t popMark() {
    if (marks_.empty()) {
      throw std::runtime_error("the pickle has no mark");
    }
    const auto mark = marks_.back();
    marks_.pop_back();
    return mark;
  }
  ValuePtr memo(std::uint64_t index) {
    const auto found = memo_.find(index);
    if (found == memo_.end()) {
      throw std::runtime_error("the pickle refers to an unknown memo entry");
    }
    return found->second;
  }
  void pushBool(bool value) {
    auto v = makeValue(Value::Kind::kBool);
    v->integer = value ? 1 : 0;
    push(v);
  }
  void pushInt(std::int64_t value) {
    auto v = makeValue(Value::Kind::kInt);
    v->integer = value;
    push(v);
  }
  void pushLong() {
    const auto count = static_cast<std::uint8_t>(byte());
    if (count > 8) {
      throw std::runtime_error("an integer in the pickle is too large");
    }
    const auto raw = bytes(count);
    std::uint64_t value = 0;
    for (int i = count - 1; i >= 0; --i) {
      value = (value << 8) | static_cast<std::uint8_t>(raw[static_cast<std::size_t>(i)]);
    }
    if (count > 0 && count < 8 && (static_cast<std::uint8_t>(raw.back()) & 0x80) != 0) {
      value |= ~std::uint64_t{0} << (8 * count);  // sign extension
    }
    pushInt(static_cast<std::int64_t>(value));
  }
  void pushFloat() {
    const auto raw = bytes(8);
    std::uint64_t bits = 0;
    for (char c : raw) {
      bits = (bits << 8) | static_cast<std::uint8_t>(c);  // big-endian
    }
    auto v = makeValue(Value::Kind::kFloat);
    std::memcpy(&v->real, &bits, sizeof bits);
    push(v);
  }
  void pushString(std::string text) {
    auto v = makeValue(Value::Kind::kString);
    v->text = std::move(text);
    push(v);
  }
  void pushGlobal(std::string name) {
    auto v = makeValue(Value::Kind::kGlobal);
    v->text = std::move(name);
    push(v);
  }
  void tupleOf(std::size_t count) {
    if (count > stack_.size()) {
      throw std::runtime_error("the pickle's stack underflows");
    }
    auto tuple = makeValue(Value::Kind::kTuple);
    tuple->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(count), stack_.end());
    stack_.resize(stack_.size() - count);
    push(tuple);
  }
  void appends() {
    const auto mark = popMark();
    std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    auto& list = top()->items;
    list.insert(list.end(), items.begin(), items.end());
  }
  void setItems() {
    const auto mark = popMark();
    if ((stack_.size() - mark) % 2 != 0 || mark == 0) {
      throw std::runtime_error("the pickle's SETITEMS is malformed");
    }
    auto& dict = stack_[mark - 1]->dict;
    for (auto i = mark; i < stack_.size(); i += 2) {
      dict.emplace_back(stack_[i], stack_[i + 1]);
    }
    stack_.resize(mark);
  }
  void reduce() {
    const auto args = pop();
    const auto callable = pop();
    const auto& name = callable->text;
    if (name == "collections.OrderedDict") {
      push(makeValue(Value::Kind::kDict));
    } else if (name == "torch._utils._rebuild_tensor_v2" && args->items.size() >= 4 &&
               args->items[0]->kind == Value::Kind::kTensor) {
      auto v = makeValue(Value::Kind::kTensor);
      v->tensor = args->items[0]->tensor.as_strided(
          intList(args->items[2]), intList(args->items[3]), args->items[1]->integer);
      push(v);
    } else {
      throw std::runtime_error("unsupported global " + name);
    }
  }
  void persistentLoad() {
    // ('storage', torch.FloatStorage, key, location, numel)
    const auto id = pop();
    if (id->items.size() < 5 || id->items[0]->text != "storage") {
      throw std::runtime_error("unsupported persistent id");
    }
    const auto& key = id->items[2]->text;
    auto& storage = storages_[key];
    if (!storage.defined()) {
      const auto dtype = storageType(id->items[1]->text);
      const auto numel = id->items[4]->integer;
      const auto [data, size] = readRecord(reader_, "data/" + key, fileBytes_);
      // The storage's claimed length is checked against its record before it is allocated.
      if (numel < 0 || static_cast<std::uint64_t>(numel) > size / c10::elementSize(dtype)) {
        throw std::runtime_error("storage " + key + " is shorter than its tensor");
      }
      storage = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
      std::memcpy(storage.data_ptr(), data.get(),
                  static_cast<std::size_t>(numel) * storage.element_size());
    }
    auto v = makeValue(Value::Kind::kTensor);
    v->tensor = storage;
    push(v);
  }

  const char* data_;
  std::size_t size_;
  std::size_t position_ = 0;
  caffe2::serialize::PyTorchStreamReader& reader_;
  std::size_t fileBytes_;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
  std::map<std::string, torch::Tensor> storages_;
};

// torch::pickle_save, except that the dict carries no TorchScript type tag: Python's
// torch.load(weights_only=True) refuses the tag's torch.jit._pickle.restore_type_tag. The layout
// is torch.save's zip: data.pkl and one record per storage under data/.
std::string pickleZip(const torch::IValue& value) {
  std::vector<char> pickled;
  torch::jit::Pickler pickler(
      [&](const char* data, std::size_t size) { pickled.insert(pickled.end(), data, data + size); },
      /*tensor_table=*/nullptr, /*type_renamer=*/nullptr, /*memoized_class_types=*/nullptr,
      /*get_tensor_id=*/nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();

  std::string zip;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, std::size_t size) {
      zip.append(static_cast<const char*>(data), size);
      return size;
    });
    std::size_t index = 0;
    for (const auto& tensor : pickler.tensorData()) {
      const auto writable = torch::jit::getWriteableTensorData(tensor);
      writer.writeRecord("data/" + std::to_string(index++), writable.data(),
                         writable.sizeInBytes());
    }
    writer.writeRecord("data.pkl", pickled.data(), pickled.size());
    writer.writeEndOfFile();
  }
  return zip;
}

}  // namespace

torch::OrderedDict<std::string, torch::Tensor> stateDict(const torch::nn::Module& module) {
  torch::OrderedDict<std::string, torch::Tensor> out;
  addStateOf("", module, out);
  return out;
}

torch::OrderedDict<std::string, torch::Tensor> readTensorDict(const std::filesystem::path& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) {
      core::throwFileError(path, "cannot be opened for reading");
    }
  }
  try {
    const auto fileBytes = static_cast<std::size_t>(std::filesystem::file_size(path));
    caffe2::serialize::PyTorchStreamReader reader(path.string());
    const auto [data, size] = readRecord(reader, "data.pkl", fileBytes);
    Unpickler unpickler(static_cast<const char*>(data.get()), size, reader, fileBytes);
    const auto root = unpickler.run();
    if (root->kind != Value::Kind::kDict) {
      throw std::runtime_error("the file holds no dict");
    }
    torch::OrderedDict<std::string, torch::Tensor> out;
    for (const auto& [key, value] : root->dict) {
      if (key->kind != Value::Kind::kString || value->kind != Value::Kind::kTensor) {
        throw std::runtime_error("the dict holds an entry that is not a name and a tensor");
      }
      out.insert(key->text, value->tensor);
    }
    return out;
  } catch (const core::Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string reason = e.what();
    reason = reason.substr(0, reason.find('\n'));
    core::throwFileError(path, "is not a dict of tensors written by torch.save (" + reason + ")");
  }
}

void writeTensorDict(const torch::OrderedDict<std::string, torch::Tensor>& tensors,
                     const std::filesystem::path& path) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& item : tensors) {
    // A tensor of its own (no view of a larger storage), on the CPU.
    dict.insert(item.key(), item.value().detach().to(torch::kCPU).contiguous().clone());
  }
  std::string bytes;
  try {
    bytes = pickleZip(dict);
  } catch (const std::exception& e) {
    core::throwFileError(path, std::string("cannot be serialized: ") + e.what());
  }
  core::writeFileAtomic(path, bytes);
}

void loadTorchvisionStateDict(torch::nn::Module& module, const std::filesystem::path& path,
                              const TorchvisionLoadOptions& options) {
  const auto file = readTensorDict(path);
  auto target = stateDict(module);
  bool moduleHasAux = false;
  for (const auto& item : target) {
    moduleHasAux = moduleHasAux || isAuxKey(item.key());
  }
  auto skipped = [&](const std::string& key) {
    return (options.skipClassifier && isClassifierKey(key)) || (!moduleHasAux && isAuxKey(key));
  };

  std::vector<std::string> missing, unexpected, misShaped;
  for (const auto& item : target) {
    if (!skipped(item.key()) && !file.contains(item.key())) {
      missing.push_back(item.key());
    }
  }
  for (const auto& item : file) {
    if (skipped(item.key())) {
      continue;
    }
    const auto* own = target.find(item.key());
    if (own == nullptr) {
      unexpected.push_back(item.key());
    } else if (own->sizes() != item.value().sizes()) {
      misShaped.push_back(item.key() + " (file " + sizesText(item.value()) + ", model " +
                          sizesText(*own) + ")");
    }
  }
  if (!missing.empty() || !unexpected.empty() || !misShaped.empty()) {
    std::string what = "does not fit the model:";
    if (!missing.empty()) {
      what += " missing keys: " + keyList(missing) + ";";
    }
    if (!unexpected.empty()) {
      what += " unexpected keys: " + keyList(unexpected) + ";";
    }
    if (!misShaped.empty()) {
      what += " mis-shaped: " + keyList(misShaped) + ";";
    }
    what.pop_back();
    const bool headMisShaped = std::any_of(misShaped.begin(), misShaped.end(), isClassifierKey);
    if (headMisShaped && !options.skipClassifier) {
      what += " (for another number of classes, skip the classifier heads)";
    }
    core::throwFileError(path, what);
  }

  torch::NoGradGuard noGrad;
  for (const auto& item : file) {
    if (!skipped(item.key())) {
      target[item.key()].copy_(item.value());
    }
  }
}

void saveTorchvisionStateDict(const torch::nn::Module& module, const std::filesystem::path& path) {
  writeTensorDict(stateDict(module), path);
}

}  // namespace taxon::model
