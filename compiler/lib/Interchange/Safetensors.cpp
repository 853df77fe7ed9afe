//===- Safetensors.cpp - Reading and writing .safetensors files -----------===//

#include "resnetc/Interchange/Safetensors.h"

#include "resnetc/runtime/AtomicFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;
using namespace resnetc;
using namespace resnetc::safetensors;

namespace {

enum class DType { F32, F16, BF16, F64, I64 };

struct DTypeInfo {
  const char *name;
  DType dtype;
  uint64_t bytes;
};

constexpr DTypeInfo kDTypes[] = {{"F32", DType::F32, 4},
                                 {"F16", DType::F16, 2},
                                 {"BF16", DType::BF16, 2},
                                 {"F64", DType::F64, 8},
                                 {"I64", DType::I64, 8}};

/// One tensor's header entry, checked against the data section.
struct Entry {
  std::string name;
  const DTypeInfo *dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

std::string show(const json::Value &value) {
  std::string text;
  raw_string_ostream(text) << value;
  return text;
}

std::string showShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string showRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

float halfToFloat(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  if (exponent == 0) { // zero or subnormal: mantissa * 2^-24
    float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  uint32_t bits = exponent == 0x1f ? sign | 0x7f800000u | (mantissa << 13) // inf, NaN
                                   : sign | ((exponent + 112) << 23) | (mantissa << 13);
  return llvm::bit_cast<float>(bits);
}

/// llvm::json parses recursively, so a header nested thousands deep would
/// overflow the stack; real headers nest three levels.
bool checkNesting(StringRef text, std::string &error) {
  constexpr int kMaxNesting = 64;
  int depth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) {
        error = "the header nests arrays and objects more than " + std::to_string(kMaxNesting) +
                " levels deep (safetensors headers nest 3)";
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth; // an excess closer is the parser's error to report
    }
  }
  return true;
}

bool parseEntry(StringRef name, const json::Value &value, uint64_t dataSize, Entry &entry,
                std::string &error) {
  std::string what = "tensor '" + name.str() + "'";
  entry.name = name.str();
  const json::Object *object = value.getAsObject();
  if (!object) {
    error = what + ": its header entry is " + show(value) + ", not an object";
    return false;
  }
  std::optional<StringRef> dtype = object->getString("dtype");
  if (!dtype) {
    error = what + ": no \"dtype\" string";
    return false;
  }
  for (const DTypeInfo &info : kDTypes)
    if (*dtype == info.name)
      entry.dtype = &info;
  if (!entry.dtype) {
    error = what + ": dtype '" + dtype->str() + "' is not supported (F32, F16, BF16, F64, I64)";
    return false;
  }
  const json::Array *shape = object->getArray("shape");
  if (!shape) {
    error = what + ": no \"shape\" array";
    return false;
  }
  // The element count, kept below 2^62 so that the byte size cannot overflow.
  uint64_t elements = 1;
  for (size_t i = 0; i < shape->size(); ++i) {
    std::optional<int64_t> dim = (*shape)[i].getAsInteger();
    if (!dim || *dim < 0) {
      error = what + ": shape dimension " + std::to_string(i) + " is " + show((*shape)[i]) +
              ", not a non-negative integer";
      return false;
    }
    entry.shape.push_back(*dim);
    if (*dim != 0 && elements > (uint64_t(1) << 62) / uint64_t(*dim)) {
      error = what + ": shape " + show(*object->get("shape")) + " has too many elements";
      return false;
    }
    elements *= uint64_t(*dim);
  }
  const json::Array *offsets = object->getArray("data_offsets");
  std::optional<int64_t> begin, end;
  if (offsets && offsets->size() == 2) {
    begin = (*offsets)[0].getAsInteger();
    end = (*offsets)[1].getAsInteger();
  }
  if (!begin || !end || *begin < 0 || *end < 0) {
    const json::Value *given = object->get("data_offsets");
    error = what + ": data_offsets must be two non-negative integers [begin, end], got " +
            (given ? show(*given) : std::string("nothing"));
    return false;
  }
  entry.begin = uint64_t(*begin);
  entry.end = uint64_t(*end);
  std::string range = "data_offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) + "]";
  if (entry.end < entry.begin) {
    error = what + ": " + range + " end before they begin";
    return false;
  }
  if (entry.end > dataSize) {
    error = what + ": " + range + " reach beyond the data section, which has " +
            std::to_string(dataSize) + " bytes";
    return false;
  }
  uint64_t bytes = elements * entry.dtype->bytes;
  if (entry.end - entry.begin != bytes) {
    error = what + ": shape " + showShape(entry.shape) + " of " + entry.dtype->name + " needs " +
            std::to_string(bytes) + " bytes, but " + range + " hold " +
            std::to_string(entry.end - entry.begin);
    return false;
  }
  return true;
}

bool parseMetadata(const json::Value &value, File &file, std::string &error) {
  const json::Object *object = value.getAsObject();
  if (!object) {
    error = "__metadata__ is " + show(value) + ", not an object of strings";
    return false;
  }
  for (const auto &[key, item] : *object) {
    std::optional<StringRef> text = item.getAsString();
    if (!text) {
      error = "__metadata__: the value of '" + key.str() + "' is " + show(item) + ", not a string";
      return false;
    }
    file.metadata.emplace_back(key.str(), text->str());
  }
  llvm::sort(file.metadata);
  return true;
}

/// The data section must be covered exactly: sorted by offset, each tensor
/// starts where the previous one ended.
bool checkCoverage(std::vector<const Entry *> entries, uint64_t dataSize, std::string &error) {
  llvm::sort(entries, [](const Entry *a, const Entry *b) {
    return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
  });
  uint64_t covered = 0;
  const Entry *previous = nullptr;
  for (const Entry *entry : entries) {
    if (entry->begin < covered) {
      error = "tensors '" + previous->name + "' (bytes " +
              showRange(previous->begin, previous->end) + ") and '" + entry->name + "' (bytes " +
              showRange(entry->begin, entry->end) + ") overlap";
      return false;
    }
    if (entry->begin > covered) {
      error = "bytes " + showRange(covered, entry->begin) +
              " of the data section belong to no tensor (a hole before '" + entry->name + "')";
      return false;
    }
    covered = entry->end;
    previous = entry;
  }
  if (covered != dataSize) {
    error = "bytes " + showRange(covered, dataSize) +
            " at the end of the data section belong to no tensor";
    return false;
  }
  return true;
}

void decode(const Entry &entry, const char *data, File &file) {
  uint64_t count = (entry.end - entry.begin) / entry.dtype->bytes;
  const char *p = data + entry.begin;
  if (entry.dtype->dtype == DType::I64) {
    IntegerTensor tensor{entry.name, entry.shape, {}};
    tensor.values.reserve(count);
    for (uint64_t i = 0; i < count; ++i)
      tensor.values.push_back(int64_t(support::endian::read64le(p + 8 * i)));
    file.integerTensors.push_back(std::move(tensor));
    return;
  }
  NamedTensor tensor;
  tensor.name = entry.name;
  tensor.shape = entry.shape;
  tensor.values.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    float &v = tensor.values[i];
    switch (entry.dtype->dtype) {
    case DType::F32:
      v = llvm::bit_cast<float>(support::endian::read32le(p + 4 * i));
      break;
    case DType::F16:
      v = halfToFloat(support::endian::read16le(p + 2 * i));
      break;
    case DType::BF16: // the upper half of an F32
      v = llvm::bit_cast<float>(uint32_t(support::endian::read16le(p + 2 * i)) << 16);
      break;
    case DType::F64:
      v = float(llvm::bit_cast<double>(support::endian::read64le(p + 8 * i)));
      break;
    case DType::I64:
      break;
    }
  }
  file.tensors.push_back(std::move(tensor));
}

} // namespace

bool safetensors::parse(StringRef bytes, File &file, std::string &error) {
  file = File();
  if (bytes.size() < 8) {
    error = "the file has " + std::to_string(bytes.size()) +
            " bytes, fewer than the 8 of the header length";
    return false;
  }
  uint64_t headerSize = support::endian::read64le(bytes.data());
  if (headerSize > kMaxHeaderBytes) {
    error = "the header length is " + std::to_string(headerSize) +
            " bytes, more than the limit of 100 MiB: not a safetensors file";
    return false;
  }
  if (headerSize > bytes.size() - 8) {
    error = "the header length is " + std::to_string(headerSize) + " bytes, but only " +
            std::to_string(bytes.size() - 8) + " bytes follow it";
    return false;
  }
  StringRef data = bytes.drop_front(8 + headerSize);
  if (!checkNesting(bytes.substr(8, headerSize), error))
    return false;
  Expected<json::Value> header = json::parse(bytes.substr(8, headerSize));
  if (!header) {
    error = "the header is not valid JSON: " + toString(header.takeError());
    return false;
  }
  const json::Object *root = header->getAsObject();
  if (!root) {
    error = "the header is " + show(*header).substr(0, 60) + ", not a JSON object";
    return false;
  }
  // Names in order, so that the first error reported does not depend on hashing.
  std::vector<StringRef> names;
  for (const auto &item : *root)
    names.push_back(item.first);
  llvm::sort(names);
  std::vector<Entry> entries;
  entries.reserve(names.size());
  for (StringRef name : names) {
    const json::Value &value = *root->get(name);
    if (name == "__metadata__") {
      if (!parseMetadata(value, file, error))
        return false;
      continue;
    }
    entries.emplace_back();
    if (!parseEntry(name, value, data.size(), entries.back(), error))
      return false;
  }
  std::vector<const Entry *> pointers;
  for (const Entry &entry : entries)
    pointers.push_back(&entry);
  if (!checkCoverage(pointers, data.size(), error))
    return false;
  for (const Entry &entry : entries) // sorted by name already
    decode(entry, data.data(), file);
  return true;
}

bool safetensors::readFile(const std::string &path, File &file, std::string &error) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "cannot open '" + path + "': " + buffer.getError().message();
    return false;
  }
  if (!parse((*buffer)->getBuffer(), file, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool safetensors::serialize(const File &file, std::string &bytes, std::string &error) {
  struct Item {
    StringRef name;
    const NamedTensor *floats = nullptr;
    const IntegerTensor *integers = nullptr;
  };
  std::vector<Item> items;
  for (const NamedTensor &tensor : file.tensors) {
    if (tensor.elementCount() != int64_t(tensor.values.size())) {
      error = "tensor '" + tensor.name + "' holds " + std::to_string(tensor.values.size()) +
              " values, but its shape " + showShape(tensor.shape) + " says " +
              std::to_string(tensor.elementCount());
      return false;
    }
    items.push_back({tensor.name, &tensor, nullptr});
  }
  for (const IntegerTensor &tensor : file.integerTensors) {
    int64_t count = 1;
    for (int64_t d : tensor.shape)
      count *= d;
    if (count != int64_t(tensor.values.size())) {
      error = "tensor '" + tensor.name + "' holds " + std::to_string(tensor.values.size()) +
              " values, but its shape " + showShape(tensor.shape) + " says " +
              std::to_string(count);
      return false;
    }
    items.push_back({tensor.name, nullptr, &tensor});
  }
  llvm::sort(items, [](const Item &a, const Item &b) { return a.name < b.name; });
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == "__metadata__") {
      error = "'__metadata__' cannot name a tensor";
      return false;
    }
    if (i > 0 && items[i].name == items[i - 1].name) {
      error = "two tensors are named '" + items[i].name.str() + "'";
      return false;
    }
  }
  auto metadata = file.metadata;
  llvm::sort(metadata);

  std::string header;
  raw_string_ostream os(header);
  json::OStream json(os);
  uint64_t offset = 0;
  json.object([&] {
    if (!metadata.empty())
      json.attributeObject("__metadata__", [&] {
        for (const auto &[key, value] : metadata)
          json.attribute(key, value);
      });
    for (const Item &item : items)
      json.attributeObject(item.name, [&] {
        const std::vector<int64_t> &shape = item.floats ? item.floats->shape : item.integers->shape;
        uint64_t size =
            item.floats ? 4 * item.floats->values.size() : 8 * item.integers->values.size();
        json.attribute("dtype", item.floats ? "F32" : "I64");
        json.attributeArray("shape", [&] {
          for (int64_t d : shape)
            json.value(d);
        });
        json.attributeArray("data_offsets", [&] {
          json.value(int64_t(offset));
          json.value(int64_t(offset + size));
        });
        offset += size;
      });
  });
  os.flush();
  header.append((8 - header.size() % 8) % 8, ' '); // the data starts 8-byte aligned

  bytes.clear();
  bytes.reserve(8 + header.size() + offset);
  char word[8];
  support::endian::write64le(word, header.size());
  bytes.append(word, 8);
  bytes += header;
  for (const Item &item : items) {
    if (item.floats) {
      for (float v : item.floats->values) {
        support::endian::write32le(word, llvm::bit_cast<uint32_t>(v));
        bytes.append(word, 4);
      }
    } else {
      for (int64_t v : item.integers->values) {
        support::endian::write64le(word, uint64_t(v));
        bytes.append(word, 8);
      }
    }
  }
  return true;
}

bool safetensors::writeFile(const std::string &path, const File &file, std::string &error) {
  std::string bytes;
  if (!serialize(file, bytes, error))
    return false;
  return writeFileAtomically(path, bytes.data(), bytes.size(), error);
}
