#pragma once
// The librdkafka Samsa runs on (the shared library loaded, not the headers built against).
namespace samsa::kafka {

/// Its version as 0xMMmmrrxx (major, minor, revision, pre-release).
int library_version();

/// Its version as text, "2.0.2".
const char* library_version_text();

/// Its offsets store carries commit metadata to the auto-commit: from 2.2.0 on; before, it
/// drops it (and the auto-commit would commit the offset without it).
bool stores_offset_metadata();

}  // namespace samsa::kafka
