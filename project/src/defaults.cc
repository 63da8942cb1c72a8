// The text below is BuildStream 1.6.8's, from buildstream/data/projectconfig.yaml
// and buildstream/plugins/elements/*.yaml, comments included, so that a
// difference from bst shows up as a diff against those files.
#include "cairn/project/defaults.h"

#include <map>

namespace cairn::project {
namespace {

const char kProjectDefaults[] = R"yaml(# Default BuildStream project configuration.


# General configuration defaults
#

# Require format version 0
format-version: 0

# Elements are found at the project root
element-path: .

# Store source references in element files
ref-storage: inline

# Variable Configuration
#
variables:
  # Path configuration, to be used in build instructions.
  prefix: "/usr"
  exec_prefix: "%{prefix}"
  bindir: "%{exec_prefix}/bin"
  sbindir: "%{exec_prefix}/sbin"
  libexecdir: "%{exec_prefix}/libexec"
  datadir: "%{prefix}/share"
  sysconfdir: "/etc"
  sharedstatedir: "%{prefix}/com"
  localstatedir: "/var"
  lib: "lib"
  libdir: "%{prefix}/%{lib}"
  debugdir: "%{libdir}/debug"
  includedir: "%{prefix}/include"
  docdir: "%{datadir}/doc"
  infodir: "%{datadir}/info"
  mandir: "%{datadir}/man"

  # Indicates the default build directory where input is
  # normally staged
  build-root: /buildstream/%{project-name}/%{element-name}

  # Indicates the build installation directory in the sandbox
  install-root: /buildstream-install

  # Arguments for tooling used when stripping debug symbols
  objcopy-link-args: --add-gnu-debuglink
  objcopy-extract-args: |

    --only-keep-debug --compress-debug-sections

  strip-args: |

    --remove-section=.comment --remove-section=.note --strip-unneeded

  # Generic implementation for stripping debugging symbols
  strip-binaries: |

    cd "%{install-root}" && find -type f \
      '(' -perm -111 -o -name '*.so*' \
          -o -name '*.cmxs' -o -name '*.node' ')' \
      -exec sh -ec \
      'read -n4 hdr <"$1" # check for elf header
       if [ "$hdr" != "$(printf \\x7fELF)" ]; then
           exit 0
       fi
       debugfile="%{install-root}%{debugdir}/$1"
       mkdir -p "$(dirname "$debugfile")"
       objcopy %{objcopy-extract-args} "$1" "$debugfile"
       chmod 644 "$debugfile"
       strip %{strip-args} "$1"
       objcopy %{objcopy-link-args} "$debugfile" "$1"' - {} ';'

  # Generic implementation for reproducible python builds
  fix-pyc-timestamps: |

    find "%{install-root}" -name '*.pyc' -exec \
      dd if=/dev/zero of={} bs=1 count=4 seek=4 conv=notrunc ';'

# Base sandbox environment, can be overridden by plugins
environment:
  PATH: /usr/bin:/bin:/usr/sbin:/sbin
  SHELL: /bin/sh
  TERM: dumb
  # USER, USERNAME and LOGNAME: bst 1.6's own values, kept as they
  # are (bst's sandbox sees exactly these). They are part of every
  # element's cache key (only environment-nocache names are left out),
  # so any other name would give every element a key different from
  # bst's for the same inputs. A fixed name, never the host user's,
  # keeps builds reproducible across machines and users.
  USER: tomjon
  USERNAME: tomjon
  LOGNAME: tomjon
  LC_ALL: C
  HOME: /tmp
  TZ: UTC

  # For reproducible builds we use 2011-11-11 as a constant
  SOURCE_DATE_EPOCH: 1320937200

# List of environment variables which should not be taken into
# account when calculating a cache key for a given element.
#
environment-nocache: []

# Configuration for the sandbox other than environment variables
# should go in 'sandbox'. This just contains the UID and GID that
# the user in the sandbox will have. Not all sandboxes will support
# changing the values.
sandbox:
  build-uid: 0
  build-gid: 0

# Defaults for the 'split-rules' public data found on elements
# in the 'bst' domain.
#
split-rules:

  # The runtime domain includes whatever is needed for the
  # built element to run, this includes stripped executables
  # and shared libraries by default.
  runtime:
  - |
    %{bindir}/*
  - |
    %{sbindir}/*
  - |
    %{libexecdir}/*
  - |
    %{libdir}/lib*.so*

  # The devel domain includes additional things which
  # you may need for development.
  #
  # By default this includes header files, static libraries
  # and other metadata such as pkgconfig files, m4 macros and
  # libtool archives.
  devel:
  - |
    %{includedir}
  - |
    %{includedir}/**
  - |
    %{libdir}/lib*.a
  - |
    %{libdir}/lib*.la
  - |
    %{libdir}/pkgconfig/*.pc
  - |
    %{datadir}/pkgconfig/*.pc
  - |
    %{datadir}/aclocal/*.m4

  # The debug domain includes debugging information stripped
  # away from libraries and executables
  debug:
  - |
    %{debugdir}
  - |
    %{debugdir}/**

  # The doc domain includes documentation
  doc:
  - |
    %{docdir}
  - |
    %{docdir}/**
  - |
    %{infodir}
  - |
    %{infodir}/**
  - |
    %{mandir}
  - |
    %{mandir}/**

  # The locale domain includes translations etc
  locale:
  - |
    %{datadir}/locale
  - |
    %{datadir}/locale/**
  - |
    %{datadir}/i18n
  - |
    %{datadir}/i18n/**
  - |
    %{datadir}/zoneinfo
  - |
    %{datadir}/zoneinfo/**


# Default behavior for `bst shell`
#
shell:

  # Command to run when `bst shell` does not provide a command
  #
  command: [ 'sh', '-i' ]
)yaml";

const char kComposeDefaults[] = R"yaml(
# Compose element configuration
config:

  # Whether to run the integration commands for the
  # staged dependencies.
  #
  integrate: True

  # A list of domains to include from each artifact, as
  # they were defined in the element's 'split-rules'.
  #
  # Since domains can be added, it is not an error to
  # specify domains which may not exist for all of the
  # elements in this composition.
  #
  # The default empty list indicates that all domains
  # from each dependency should be included.
  #
  include: []

  # A list of domains to exclude from each artifact, as
  # they were defined in the element's 'split-rules'.
  #
  # In the case that a file is spoken for by a domain
  # in the 'include' list and another in the 'exclude'
  # list, then the file will be excluded.
  exclude: []

  # Whether to include orphan files which are not
  # included by any of the 'split-rules' present on
  # a given element.
  #
  include-orphans: True
)yaml";

const char kImportDefaults[] = R"yaml(# The import element simply stages the given sources
# directly to the root of the sandbox and then collects
# the output to create an output artifact.
#
config:

  # By default we collect everything staged, specify a
  # directory here to output only a subset of the staged
  # input sources.
  source: /

  # Prefix the output with an optional directory, by default
  # the input is found at the root of the produced artifact.
  target: /
)yaml";

const char kManualDefaults[] = R"yaml(# No variables added for the manual element by default, set
# this if you plan to use make, and the sources cannot handle
# parallelization.
#
# variables:
#
#   notparallel: True

# Manual build element does not provide any default
# build commands
config:

  # Commands for configuring the software
  #
  configure-commands: []

  # Commands for building the software
  #
  build-commands: []

  # Commands for installing the software into a
  # destination folder
  #
  install-commands: []

  # Commands for stripping installed binaries
  #
  strip-commands:
  - |
    %{strip-binaries}

# Use max-jobs CPUs for building and enable verbosity
environment:
  MAKEFLAGS: -j%{max-jobs}
  V: 1

# And dont consider MAKEFLAGS or V as something which may
# effect build output.
environment-nocache:
- MAKEFLAGS
- V
)yaml";

const char kScriptDefaults[] = R"yaml(# Common script element variables
variables:
  # Defines the directory commands will be run from.
  cwd: /

# Script element configuration
config:

  # Defines whether to run the sandbox with '/' read-only.
  # It is recommended to set root as read-only wherever possible.
  root-read-only: False

  # Defines whether we should mount a tmpfs filesystem at /dev/shm
  #
  create-dev-shm: False

  # Defines where to stage elements which are direct or indirect dependencies.
  # By default, all direct dependencies are staged to '/'.
  # This is also commonly used to take one element as an environment
  # containing the tools used to operate on the other element.
  # layout:
  # - element: foo-tools.bst
  #   destination: /
  # - element: foo-system.bst
  #   destination: %{build-root}

  # List of commands to run in the sandbox.
  commands: []

)yaml";

const char kStackDefaults[] =
    R"yaml(# The stack element has no defaults of its own: it only depends on
# other elements.
{}
)yaml";

const std::map<std::string, const char*>& KindDefaults() {
  static const auto* const kKinds = new std::map<std::string, const char*>{
      {"compose", kComposeDefaults}, {"import", kImportDefaults}, {"manual", kManualDefaults},
      {"script", kScriptDefaults},   {"stack", kStackDefaults},
  };
  return *kKinds;
}

}  // namespace

const std::string& ProjectDefaultsYaml() {
  static const auto* const kText = new std::string(kProjectDefaults);
  return *kText;
}

StatusOr<std::string> KindDefaultsYaml(const std::string& kind) {
  auto it = KindDefaults().find(kind);
  if (it != KindDefaults().end()) return std::string(it->second);
  std::string known;
  for (const auto& [name, text] : KindDefaults()) {
    known += known.empty() ? name : ", " + name;
  }
  return NotFound("no built-in element kind '" + kind + "' (known kinds: " + known + ")");
}

std::vector<std::string> KnownKinds() {
  std::vector<std::string> kinds;
  for (const auto& [name, text] : KindDefaults()) kinds.push_back(name);
  return kinds;
}

}  // namespace cairn::project
