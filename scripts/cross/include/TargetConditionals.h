/* Stands in for the macOS SDK's header when ring's C is compiled on Linux only to check
 * hcwrap for macOS (scripts/cross-check): ring reads these to tell macOS from iOS. */
#ifndef TARGET_CONDITIONALS_STAND_IN
#define TARGET_CONDITIONALS_STAND_IN
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#endif
