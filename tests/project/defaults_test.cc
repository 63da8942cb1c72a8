#include "cairn/project/defaults.h"

#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/project/variables.h"
#include "cairn/runtime/config_node.h"

namespace cairn::project {
namespace {

using ::testing::HasSubstr;

ConfigNode ParseOrDie(const std::string& yaml) {
  StatusOr<ConfigNode> node = ConfigNode::Parse(yaml, "<defaults>");
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  return node.ok() ? std::move(node).value() : ConfigNode();
}

ConfigNode KindOrDie(const std::string& kind) {
  StatusOr<std::string> text = KindDefaultsYaml(kind);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return ParseOrDie(text.ok() ? *text : "");
}

std::vector<std::string> Scalars(const ConfigNode& list) {
  std::vector<std::string> result;
  for (const ConfigNode& item : list.items()) result.push_back(item.scalar());
  return result;
}

std::vector<std::pair<std::string, std::string>> MapScalars(const ConfigNode& map) {
  std::vector<std::pair<std::string, std::string>> result;
  for (const ConfigNode::Entry& entry : map.entries()) {
    result.emplace_back(entry.key, entry.value.scalar());
  }
  return result;
}

// The project defaults' variables plus what bst adds, for element
// "plain.bst" of project "vx" with max-jobs 2.
Variables DefaultVariables() {
  ConfigNode defaults = ParseOrDie(ProjectDefaultsYaml());
  ConfigNode variables = *defaults.Get("variables");
  SourceLocation computed{"<computed>", 0, 0};
  variables.Set("project-name", ConfigNode::Scalar("vx", computed), computed);
  variables.Set("max-jobs", ConfigNode::Scalar("2", computed), computed);
  variables.Set("element-name", ConfigNode::Scalar("plain.bst", computed), computed);
  StatusOr<Variables> resolved = Variables::Resolve(variables);
  EXPECT_TRUE(resolved.ok()) << resolved.status().ToString();
  return resolved.ok() ? std::move(resolved).value() : Variables();
}

// What `bst show --format '%{vars}' plain.bst` prints for a `kind: manual`
// element with no variables in such a project (bst 1.6.8), less the two
// long scripts checked separately.
TEST(DefaultsTest, ProjectVariablesResolveToWhatBstResolves) {
  std::vector<std::pair<std::string, std::string>> expected = {
      {"bindir", "/usr/bin"},
      {"build-root", "/buildstream/vx/plain.bst"},
      {"datadir", "/usr/share"},
      {"debugdir", "/usr/lib/debug"},
      {"docdir", "/usr/share/doc"},
      {"element-name", "plain.bst"},
      {"exec_prefix", "/usr"},
      {"includedir", "/usr/include"},
      {"infodir", "/usr/share/info"},
      {"install-root", "/buildstream-install"},
      {"lib", "lib"},
      {"libdir", "/usr/lib"},
      {"libexecdir", "/usr/libexec"},
      {"localstatedir", "/var"},
      {"mandir", "/usr/share/man"},
      {"max-jobs", "2"},
      {"objcopy-extract-args", "--only-keep-debug --compress-debug-sections"},
      {"objcopy-link-args", "--add-gnu-debuglink"},
      {"prefix", "/usr"},
      {"project-name", "vx"},
      {"sbindir", "/usr/sbin"},
      {"sharedstatedir", "/usr/com"},
      {"strip-args", "--remove-section=.comment --remove-section=.note --strip-unneeded"},
      {"sysconfdir", "/etc"},
  };
  std::vector<std::pair<std::string, std::string>> actual;
  for (auto& entry : DefaultVariables().Sorted()) {
    if (entry.first != "strip-binaries" && entry.first != "fix-pyc-timestamps") {
      actual.push_back(std::move(entry));
    }
  }
  EXPECT_EQ(actual, expected);
}

// The strip command as it appears in bst 1.6.8's cache key of a manual
// element (strip-commands: ["%{strip-binaries}"]).
TEST(DefaultsTest, StripBinariesResolvesToBstsCommand) {
  const std::string expected = R"sh(cd "/buildstream-install" && find -type f \
  '(' -perm -111 -o -name '*.so*' \
      -o -name '*.cmxs' -o -name '*.node' ')' \
  -exec sh -ec \
  'read -n4 hdr <"$1" # check for elf header
   if [ "$hdr" != "$(printf \\x7fELF)" ]; then
       exit 0
   fi
   debugfile="/buildstream-install/usr/lib/debug/$1"
   mkdir -p "$(dirname "$debugfile")"
   objcopy --only-keep-debug --compress-debug-sections "$1" "$debugfile"
   chmod 644 "$debugfile"
   strip --remove-section=.comment --remove-section=.note --strip-unneeded "$1"
   objcopy --add-gnu-debuglink "$debugfile" "$1"' - {} ';')sh";
  Variables variables = DefaultVariables();
  ASSERT_NE(variables.Find("strip-binaries"), nullptr);
  EXPECT_EQ(*variables.Find("strip-binaries"), expected);
  ASSERT_NE(variables.Find("fix-pyc-timestamps"), nullptr);
  EXPECT_EQ(*variables.Find("fix-pyc-timestamps"),
            "find \"/buildstream-install\" -name '*.pyc' -exec \\\n"
            "  dd if=/dev/zero of={} bs=1 count=4 seek=4 conv=notrunc ';'");
}

// The environment bst 1.6.8 gives a build (its build log lists it, and
// `env | sort` inside the sandbox shows it plus the shell's PWD and SHLVL).
TEST(DefaultsTest, EnvironmentIsBstsSandboxEnvironment) {
  ConfigNode defaults = ParseOrDie(ProjectDefaultsYaml());
  std::vector<std::pair<std::string, std::string>> expected = {
      {"PATH", "/usr/bin:/bin:/usr/sbin:/sbin"},
      {"SHELL", "/bin/sh"},
      {"TERM", "dumb"},
      {"USER", "tomjon"},
      {"USERNAME", "tomjon"},
      {"LOGNAME", "tomjon"},
      {"LC_ALL", "C"},
      {"HOME", "/tmp"},
      {"TZ", "UTC"},
      {"SOURCE_DATE_EPOCH", "1320937200"},
  };
  EXPECT_EQ(MapScalars(*defaults.Get("environment")), expected);
  ASSERT_NE(defaults.Get("environment-nocache"), nullptr);
  EXPECT_TRUE(defaults.Get("environment-nocache")->is_sequence());
  EXPECT_TRUE(defaults.Get("environment-nocache")->items().empty());
}

TEST(DefaultsTest, SandboxBuildsAsRootAndShellIsInteractiveSh) {
  ConfigNode defaults = ParseOrDie(ProjectDefaultsYaml());
  EXPECT_EQ(defaults.Get("sandbox")->Get("build-uid")->scalar(), "0");
  EXPECT_EQ(defaults.Get("sandbox")->Get("build-gid")->scalar(), "0");
  EXPECT_EQ(Scalars(*defaults.Get("shell")->Get("command")),
            (std::vector<std::string>{"sh", "-i"}));
  EXPECT_EQ(defaults.Get("format-version")->scalar(), "0");
  EXPECT_EQ(defaults.Get("element-path")->scalar(), ".");
  EXPECT_EQ(defaults.Get("ref-storage")->scalar(), "inline");
}

// bst 1.6.8's public.bst.split-rules of every element of such a project,
// as they appear in its cache key (stripped, then substituted).
TEST(DefaultsTest, SplitRulesSubstituteToBstsRules) {
  ConfigNode defaults = ParseOrDie(ProjectDefaultsYaml());
  ConfigNode rules = *defaults.Get("split-rules");
  ASSERT_TRUE(DefaultVariables().SubstituteTree(rules).ok());
  std::vector<std::pair<std::string, std::vector<std::string>>> actual;
  for (const ConfigNode::Entry& entry : rules.entries()) {
    actual.emplace_back(entry.key, Scalars(entry.value));
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"runtime", {"/usr/bin/*", "/usr/sbin/*", "/usr/libexec/*", "/usr/lib/lib*.so*"}},
      {"devel",
       {"/usr/include", "/usr/include/**", "/usr/lib/lib*.a", "/usr/lib/lib*.la",
        "/usr/lib/pkgconfig/*.pc", "/usr/share/pkgconfig/*.pc", "/usr/share/aclocal/*.m4"}},
      {"debug", {"/usr/lib/debug", "/usr/lib/debug/**"}},
      {"doc",
       {"/usr/share/doc", "/usr/share/doc/**", "/usr/share/info", "/usr/share/info/**",
        "/usr/share/man", "/usr/share/man/**"}},
      {"locale",
       {"/usr/share/locale", "/usr/share/locale/**", "/usr/share/i18n", "/usr/share/i18n/**",
        "/usr/share/zoneinfo", "/usr/share/zoneinfo/**"}},
  };
  EXPECT_EQ(actual, expected);
}

TEST(DefaultsTest, ManualRunsNoCommandsButStripAndKeepsMakeflagsOutOfTheKey) {
  ConfigNode manual = KindOrDie("manual");
  const ConfigNode& config = *manual.Get("config");
  EXPECT_TRUE(config.Get("configure-commands")->items().empty());
  EXPECT_TRUE(config.Get("build-commands")->items().empty());
  EXPECT_TRUE(config.Get("install-commands")->items().empty());
  EXPECT_EQ(Scalars(*config.Get("strip-commands")),
            (std::vector<std::string>{"%{strip-binaries}\n"}));
  EXPECT_EQ(MapScalars(*manual.Get("environment")),
            (std::vector<std::pair<std::string, std::string>>{{"MAKEFLAGS", "-j%{max-jobs}"},
                                                              {"V", "1"}}));
  EXPECT_EQ(Scalars(*manual.Get("environment-nocache")),
            (std::vector<std::string>{"MAKEFLAGS", "V"}));
  EXPECT_EQ(manual.Get("variables"), nullptr);
}

TEST(DefaultsTest, ImportTakesEverythingToTheRoot) {
  ConfigNode import = KindOrDie("import");
  EXPECT_EQ(MapScalars(*import.Get("config")),
            (std::vector<std::pair<std::string, std::string>>{{"source", "/"}, {"target", "/"}}));
}

TEST(DefaultsTest, ComposeIntegratesAndKeepsEverythingByDefault) {
  ConfigNode compose = KindOrDie("compose");
  const ConfigNode& config = *compose.Get("config");
  EXPECT_EQ(config.Get("integrate")->scalar(), "True");
  EXPECT_TRUE(config.Get("include")->items().empty());
  EXPECT_TRUE(config.Get("exclude")->items().empty());
  EXPECT_EQ(config.Get("include-orphans")->scalar(), "True");
}

TEST(DefaultsTest, ScriptRunsFromTheRootWithAWritableRoot) {
  ConfigNode script = KindOrDie("script");
  EXPECT_EQ(script.Get("variables")->Get("cwd")->scalar(), "/");
  const ConfigNode& config = *script.Get("config");
  EXPECT_EQ(config.Get("root-read-only")->scalar(), "False");
  EXPECT_EQ(config.Get("create-dev-shm")->scalar(), "False");
  EXPECT_TRUE(config.Get("commands")->items().empty());
  EXPECT_EQ(config.Get("layout"), nullptr);
}

TEST(DefaultsTest, StackHasNoDefaults) {
  ConfigNode stack = KindOrDie("stack");
  EXPECT_TRUE(stack.is_map());
  EXPECT_TRUE(stack.entries().empty());
}

TEST(DefaultsTest, KnownKindsAreSortedAndAllHaveDefaults) {
  EXPECT_EQ(KnownKinds(),
            (std::vector<std::string>{"compose", "import", "manual", "script", "stack"}));
  for (const std::string& kind : KnownKinds()) {
    StatusOr<std::string> text = KindDefaultsYaml(kind);
    ASSERT_TRUE(text.ok()) << kind;
    EXPECT_TRUE(ConfigNode::Parse(*text, kind + ".yaml").ok()) << kind;
  }
}

TEST(DefaultsTest, UnknownKindIsNotFoundListingTheKnownKinds) {
  StatusOr<std::string> text = KindDefaultsYaml("autotools");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Code::kNotFound);
  EXPECT_THAT(text.status().message(), HasSubstr("'autotools'"));
  EXPECT_THAT(text.status().message(), HasSubstr("compose, import, manual, script, stack"));
}

}  // namespace
}  // namespace cairn::project
