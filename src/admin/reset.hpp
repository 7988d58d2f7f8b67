#pragma once
// admin::reset_offsets on a given client: what `samsa offsets reset` runs, unit tested on the
// fake client.
#include <string>
#include <vector>

#include "admin/client.hpp"
#include "samsa/admin.hpp"

namespace samsa::admin::detail {

// admin::reset_offsets for `request` (its topic not empty, its offset not negative) on
// `client`, a group client of request.group (make_group_client), within `dl`.
std::vector<OffsetReset> reset_offsets(kafka::AdminClient& client, const std::string& brokers,
                                       const OffsetResetRequest& request, const Deadline& dl);

}  // namespace samsa::admin::detail
