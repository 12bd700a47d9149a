# mxbridge_add_bridge(<name> SOURCES <connector sources...> [LIBS <libraries...>])
#
# The one way to build a bridge, in this tree and out of it:
# - in the mxbridge tree, the connector becomes part of the `mxbridge` executable, so
#   `bridge: {type: <name>}` works without a plug-in; the switch MXBRIDGE_BRIDGE_<NAME>
#   (bridges/CMakeLists.txt) leaves a bridge out;
# - against an installed mxbridge (find_package(mxbridge)), it becomes the plug-in
#   lib mxbridge_<name>.so, loaded with `bridge: {type: /path/to/libmxbridge_<name>.so}`.
# SOURCES are the files holding the connector and its MXBRIDGE_BRIDGE registration (a static
# registrar: they are linked as objects, never through an archive that could drop them);
# LIBS are what they need (the bridge's own protocol and logic libraries, system libraries).
# A bridge folder names only its own targets: the executable links what was added here at
# the end of the configure step (mxbridge_link_builtin_bridges, framework/CMakeLists.txt).
function(mxbridge_add_bridge name)
    cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
    if(NOT B_SOURCES)
        message(FATAL_ERROR "mxbridge_add_bridge(${name}): SOURCES names no file")
    endif()
    if(TARGET mxbridge_cli)
        set(target mxbridge_bridge_${name})
        add_library(${target} OBJECT ${B_SOURCES})
        target_link_libraries(${target} PUBLIC mxbridge ${B_LIBS})
        set_property(GLOBAL APPEND PROPERTY MXBRIDGE_BUILTIN_BRIDGES ${target})
    else()
        set(target mxbridge_${name})
        add_library(${target} MODULE ${B_SOURCES})
        target_compile_options(${target} PRIVATE -Wall -Wextra)
        target_compile_features(${target} PRIVATE cxx_std_20)
        target_link_libraries(${target} PRIVATE mxbridge::mxbridge ${B_LIBS})
    endif()
endfunction()
