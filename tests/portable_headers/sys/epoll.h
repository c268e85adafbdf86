/* SPDX-License-Identifier: MIT */
/* Stands in for Linux's <sys/epoll.h> in the portable build check (portable_build.cpp):
   macOS and the BSDs have no such header, so the library must not include it there. */
#error "<sys/epoll.h> included: the portable loop backend must build without Linux-only headers"
