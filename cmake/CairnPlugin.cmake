# cairn_add_plugin(NAME SOURCES src... [LIBRARIES lib...])
#
# One self-contained MODULE target per plugin: only the entry symbol is
# exported (hidden visibility), plugin-api is linked privately, and the .so
# lands in lib/cairn/plugins of both the build and the install tree, named
# cairn-<NAME>.so.
function(cairn_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(target cairn_plugin_${name})
  add_library(${target} MODULE ${PLUGIN_SOURCES})
  add_library(cairn::plugin_${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME cairn-${name}
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${CAIRN_PLUGIN_OUTPUT_DIRECTORY}
    INSTALL_RPATH "$ORIGIN/../.."
    BUILD_WITH_INSTALL_RPATH ON)
  target_link_libraries(${target} PRIVATE cairn::plugin_api ${PLUGIN_LIBRARIES})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  install(TARGETS ${target} LIBRARY DESTINATION ${CAIRN_PLUGIN_SUBDIR})
endfunction()
