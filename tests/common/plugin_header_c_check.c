/* Compiled as strict C99: proves cairn/plugin.h holds no C++-ism. */
#include "cairn/plugin.h"

static int32_t check_create(const cairn_host_services* host, const char* options,
                            uint64_t options_size, void** sandbox, cairn_error* error) {
  (void)host;
  (void)options;
  (void)options_size;
  (void)error;
  *sandbox = NULL;
  return CAIRN_CODE_UNIMPLEMENTED;
}

int cairn_plugin_header_c_check(void);
int cairn_plugin_header_c_check(void) {
  cairn_buffer buffer = {NULL, 0, NULL, NULL};
  cairn_sandbox_vtable vtable = {
      sizeof(cairn_sandbox_vtable), check_create, NULL, NULL, NULL, NULL};
  cairn_buffer_release(&buffer);
  return (int)vtable.struct_size;
}
