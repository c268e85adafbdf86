// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <http_task/address_guard.hpp>
#include <http_task/detail/loop/address_filter.hpp>

#include <string>

using namespace http_task;
using namespace http_task::detail;

namespace {
const char* refusal(const AddressFilter& f, const std::string& text) {
  return f.refusal(parse_range(text).base);
}
}  // namespace

TEST_CASE("the guard blocks every internal class, IPv4 and IPv6", "[guard]") {
  AddressFilter f(AddressGuard::on());
  for (std::string a : {"127.0.0.1",
                        "127.255.0.9",
                        "0.0.0.0",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "100.127.255.255",
                        "224.0.0.1",
                        "239.255.255.250",
                        "255.255.255.255",
                        "240.0.0.1",
                        "198.18.0.1",
                        "192.0.2.7",
                        "::1",
                        "::",
                        "fe80::1",
                        "fc00::1",
                        "fd00:ec2::254",
                        "ff02::1",
                        "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1",
                        "::127.0.0.1",
                        "64:ff9b::a9fe:a9fe",
                        "2002:7f00:1::",
                        "2001:db8::1",
                        "2001::1"}) {
    INFO(a);
    CHECK(refusal(f, a) != nullptr);
  }
  CHECK(std::string(refusal(f, "169.254.169.254")) == "cloud metadata address");
  CHECK(std::string(refusal(f, "::ffff:127.0.0.1")) == "loopback address");
  CHECK(std::string(refusal(f, "64:ff9b::7f00:1")) == "loopback address");
}

TEST_CASE("the guard lets public addresses through", "[guard]") {
  AddressFilter f(AddressGuard::on());
  for (std::string a :
       {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"}) {
    INFO(a);
    CHECK(refusal(f, a) == nullptr);
  }
}

TEST_CASE("the allow-list overrides the blocked classes", "[guard]") {
  AddressFilter f(AddressGuard::on({"127.0.0.1/32", "10.1.0.0/16", "fd12::/16"}));
  CHECK(refusal(f, "127.0.0.1") == nullptr);
  CHECK(refusal(f, "127.0.0.2") != nullptr);
  CHECK(refusal(f, "10.1.200.3") == nullptr);
  CHECK(refusal(f, "10.2.0.1") != nullptr);
  CHECK(refusal(f, "fd12::5") == nullptr);
}

TEST_CASE("address ranges parse strictly", "[guard]") {
  CHECK(parse_range("10.0.0.0/8").prefix == 104);
  CHECK(parse_range("::1").prefix == 128);
  CHECK(parse_range("1.2.3.4").prefix == 128);
  for (std::string bad : {"10.0.0.0/33", "::/129", "nonsense", "1.2.3.4/", "1.2.3.4/x", "1.2.3/8"})
    CHECK_THROWS_AS(parse_range(bad), std::invalid_argument);
}
