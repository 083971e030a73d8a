//! The IPVS generic-netlink ABI and a synchronous client.
