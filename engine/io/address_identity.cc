#include "engine/io/address_identity.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace reshard::engine {
namespace {

std::string Numeric(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text,
              sizeof(text));
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    // An IPv4-mapped address is that IPv4 address.
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], text, sizeof(text));
    } else {
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    }
  }
  return text;
}

bool IsWildcard(const std::string& address) { return address == "0.0.0.0" || address == "::"; }

// Every address of this machine's interfaces (loopback included).
std::vector<std::string> LocalAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {"127.0.0.1", "::1"};
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr) continue;
    std::string numeric = Numeric(it->ifa_addr);
    if (!numeric.empty()) out.push_back(numeric);
  }
  freeifaddrs(list);
  return out;
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// The host's addresses, a wildcard expanded to this machine's.
std::vector<std::string> AddressesOf(const std::string& host) {
  std::vector<std::string> addresses = ResolveHostAddresses(host);
  if (std::any_of(addresses.begin(), addresses.end(), IsWildcard)) {
    std::vector<std::string> local = LocalAddresses();
    addresses.insert(addresses.end(), local.begin(), local.end());
    SortUnique(&addresses);
  }
  return addresses;
}

}  // namespace

std::vector<std::string> ResolveHostAddresses(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  std::vector<std::string> out;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &results) != 0) return out;
  for (addrinfo* it = results; it != nullptr; it = it->ai_next) {
    std::string numeric = Numeric(it->ai_addr);
    if (!numeric.empty()) out.push_back(numeric);
  }
  freeaddrinfo(results);
  SortUnique(&out);
  return out;
}

bool SameServerAddress(const HostPort& a, const HostPort& b) {
  if (a.port != b.port) return false;
  if (a.host == b.host) return true;
  std::vector<std::string> as = AddressesOf(a.host);
  std::vector<std::string> bs = AddressesOf(b.host);
  std::vector<std::string> common;
  std::set_intersection(as.begin(), as.end(), bs.begin(), bs.end(), std::back_inserter(common));
  return !common.empty();
}

}  // namespace reshard::engine
