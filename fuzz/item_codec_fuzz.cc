// Fuzzes the item record codec (dynamo/model/item_codec.h) with arbitrary stored bytes: records
// come back from RocksDB, so every reader must reject corruption without over-reading. Beyond
// not crashing, the three readers must agree:
//   - DecodeItem, VisitItem (through WriteEncodedItem) and EncodedItemSize accept or reject the
//     same records (the size header is read by all three);
//   - WriteEncodedItem writes, byte for byte, what WriteItem writes for DecodeItem's Item (the
//     contract in dynamo/json/attribute_json.h);
//   - an accepted record's Item re-encodes to a record that decodes to an equal Item.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dynamo/json/attribute_json.h"
#include "dynamo/model/item_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view record(reinterpret_cast<const char*>(data), size);

  cruddur::Result<cruddur::dynamo::Item> item = cruddur::dynamo::DecodeItem(record);
  cruddur::json::StringBuffer streamed;
  cruddur::json::Writer streamed_writer(streamed);
  const cruddur::Status visited = cruddur::dynamo::WriteEncodedItem(record, &streamed_writer);
  Check(visited.ok() == item.ok());
  if (!item.ok()) return 0;

  Check(cruddur::dynamo::EncodedItemSize(record).ok());
  cruddur::json::StringBuffer built;
  cruddur::json::Writer built_writer(built);
  cruddur::dynamo::WriteItem(*item, &built_writer);
  Check(std::string_view(streamed.GetString(), streamed.GetSize()) ==
        std::string_view(built.GetString(), built.GetSize()));

  std::string reencoded;
  cruddur::dynamo::EncodeItem(*item, &reencoded);
  cruddur::Result<cruddur::dynamo::Item> again = cruddur::dynamo::DecodeItem(reencoded);
  Check(again.ok() && *again == *item);
  cruddur::Result<size_t> stored_size = cruddur::dynamo::EncodedItemSize(reencoded);
  Check(stored_size.ok() && *stored_size == cruddur::dynamo::ItemSize(*item));
  return 0;
}
