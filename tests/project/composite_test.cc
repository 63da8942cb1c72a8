#include "cairn/project/composite.h"

#include <gtest/gtest.h>

#include <string>

namespace cairn::project {
namespace {

ConfigNode Parse(const std::string& text, const std::string& file = "base.yml") {
  StatusOr<ConfigNode> node = ConfigNode::Parse(text, file);
  EXPECT_TRUE(node.ok()) << node.status().message();
  return node.ok() ? std::move(node).value() : ConfigNode();
}

// The composition of `overlay` onto `base`, as YAML with no positions.
std::string Composed(const std::string& base, const std::string& overlay) {
  ConfigNode node = Parse(base);
  Status status = Composite(node, Parse(overlay, "overlay.yml"));
  if (!status.ok()) return "error: " + status.message();
  return node.ToYaml();
}

std::string Yaml(const std::string& text) { return Parse(text).ToYaml(); }

std::string CompositeError(const std::string& base, const std::string& overlay) {
  ConfigNode node = Parse(base);
  Status status = Composite(node, Parse(overlay, "overlay.yml"));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  return status.message();
}

TEST(CompositeTest, MapsMergeKeyByKeyAndNewKeysComeLastInOverlayOrder) {
  EXPECT_EQ(Composed("a: 1\nm: {x: 1, y: 2}\n", "z: 9\nm: {y: 3, w: 4}\nb: 2\n"),
            Yaml("a: 1\nm: {x: 1, y: 3, w: 4}\nz: 9\nb: 2\n"));
}

TEST(CompositeTest, PlainListReplacesTheBaseList) {
  EXPECT_EQ(Composed("l: [a, b]\n", "l: [c]\n"), Yaml("l: [c]\n"));
  EXPECT_EQ(Composed("l: [a, b]\n", "l: []\n"), Yaml("l: []\n"));
}

TEST(CompositeTest, ScalarReplacesScalarAndNullReplacesScalar) {
  EXPECT_EQ(Composed("s: a\n", "s: b\n"), Yaml("s: b\n"));
  EXPECT_EQ(Composed("s: a\n", "s:\n"), Yaml("s:\n"));
  EXPECT_EQ(Composed("s:\n", "s: b\n"), Yaml("s: b\n"));
}

TEST(CompositeTest, AppendPrependAndReplaceApplyToTheBaseList) {
  EXPECT_EQ(Composed("l: [a, b]\n", "l: {(>): [c, d]}\n"), Yaml("l: [a, b, c, d]\n"));
  EXPECT_EQ(Composed("l: [a, b]\n", "l: {(<): [y, z]}\n"), Yaml("l: [y, z, a, b]\n"));
  EXPECT_EQ(Composed("l: [a, b]\n", "l: {(=): [q]}\n"), Yaml("l: [q]\n"));
  EXPECT_EQ(Composed("l: [a, b]\n", "l: {(=): []}\n"), Yaml("l: []\n"));
}

TEST(CompositeTest, ReplaceAppliesBeforePrependAndAppendWhateverTheirOrder) {
  EXPECT_EQ(Composed("l: [a]\n", "l: {(>): [z], (<): [y], (=): [q]}\n"), Yaml("l: [y, q, z]\n"));
}

TEST(CompositeTest, DirectivesWithoutBaseAreKeptForALaterLayer) {
  ConfigNode node = Parse("other: 1\n");
  ASSERT_TRUE(Composite(node, Parse("l: {(>): [c]}\n")).ok());
  EXPECT_EQ(node.ToYaml(), Yaml("other: 1\nl: {(>): [c]}\n"));
  // The kept directives still apply when a list appears under them.
  ConfigNode lower = Parse("l: [a, b]\nother: 0\n");
  ASSERT_TRUE(Composite(lower, std::move(node)).ok());
  EXPECT_EQ(lower.ToYaml(), Yaml("l: [a, b, c]\nother: 1\n"));
}

TEST(CompositeTest, DirectivesOntoDirectivesCombineInOrder) {
  EXPECT_EQ(Composed("l: {(<): [b], (>): [x]}\n", "l: {(<): [a], (>): [y]}\n"),
            Yaml("l: {(<): [a, b], (>): [x, y]}\n"));
  // (=) drops what the lower layer prepended or appended.
  EXPECT_EQ(Composed("l: {(<): [b], (>): [x]}\n", "l: {(=): [r], (>): [y]}\n"),
            Yaml("l: {(=): [r], (>): [y]}\n"));
}

TEST(CompositeTest, PlainListReplacesDirectives) {
  EXPECT_EQ(Composed("l: {(>): [x]}\n", "l: [a]\n"), Yaml("l: [a]\n"));
}

TEST(CompositeTest, ConditionalListsAreAppendedNotReplaced) {
  EXPECT_EQ(Composed("(?): [{a: {x: 1}}]\n", "(?): [{b: {y: 2}}]\n"),
            Yaml("(?): [{a: {x: 1}}, {b: {y: 2}}]\n"));
}

TEST(CompositeTest, NullBaseCountsAsEmptyMapAndNullOverlayChangesNothing) {
  ConfigNode base;
  ASSERT_TRUE(Composite(base, Parse("a: 1\n")).ok());
  EXPECT_EQ(base.ToYaml(), Yaml("a: 1\n"));
  ASSERT_TRUE(Composite(base, ConfigNode()).ok());
  EXPECT_EQ(base.ToYaml(), Yaml("a: 1\n"));
}

TEST(CompositeTest, ConstOverlayIsLeftIntact) {
  ConfigNode base = Parse("l: [a]\nm: {x: 1}\n");
  const ConfigNode overlay = Parse("l: {(>): [b]}\nm: {y: [1, 2]}\n");
  const std::string before = overlay.ToYaml();
  ASSERT_TRUE(Composite(base, overlay).ok());
  EXPECT_EQ(overlay.ToYaml(), before);
  EXPECT_EQ(base.ToYaml(), Yaml("l: [a, b]\nm: {x: 1, y: [1, 2]}\n"));
}

TEST(CompositeTest, AddedValuesKeepTheOverlayPositions) {
  ConfigNode base = Parse("l: [a]\n");
  ASSERT_TRUE(Composite(base, Parse("\nl: {(>): [b]}\nk: v\n", "overlay.yml")).ok());
  EXPECT_EQ(base.Get("l")->items()[0].location().ToString(), "base.yml:1:5");
  EXPECT_EQ(base.Get("l")->items()[1].location().ToString(), "overlay.yml:2:11");
  EXPECT_EQ(base.Get("k")->location().ToString(), "overlay.yml:3:4");
}

TEST(CompositeTest, MapOntoScalarIsAnErrorAtTheOverlayNamingTheBase) {
  EXPECT_EQ(CompositeError("m:\n  s: a\n", "m:\n  s: {x: 1}\n"),
            "overlay.yml:2:6: 'm.s': a map cannot replace the scalar at base.yml:2:6");
}

TEST(CompositeTest, ScalarOntoListOrMapIsAnError) {
  EXPECT_EQ(CompositeError("l: [a]\n", "l: b\n"),
            "overlay.yml:1:4: 'l': a scalar cannot replace the list at base.yml:1:4");
  EXPECT_EQ(CompositeError("m: {a: 1}\n", "m: ~\n"),
            "overlay.yml:1:4: 'm': a null cannot replace the map at base.yml:1:4");
}

TEST(CompositeTest, ListOntoMapIsAnError) {
  EXPECT_EQ(CompositeError("m: {a: 1}\n", "m: [a]\n"),
            "overlay.yml:1:4: 'm': a list cannot replace the map at base.yml:1:4");
}

TEST(CompositeTest, DirectivesOntoANonListAreAnError) {
  EXPECT_EQ(CompositeError("s: a\n", "s:\n  (>): [b]\n"),
            "overlay.yml:2:3: 's': list directives apply to a list, but the value at "
            "base.yml:1:4 is a scalar");
  EXPECT_EQ(CompositeError("m: {a: 1}\n", "m: {(<): [b]}\n"),
            "overlay.yml:1:4: 'm': list directives apply to a list, but the value at "
            "base.yml:1:4 is a map");
}

TEST(CompositeTest, DirectivesMixedWithKeysAreAnError) {
  EXPECT_EQ(CompositeError("l: [a]\n", "l:\n  (>): [b]\n  x: 1\n"),
            "overlay.yml:3:3: a map holding list directives ('(>)') cannot also hold the key 'x'");
}

TEST(CompositeTest, DirectiveThatIsNotAListIsAnError) {
  EXPECT_EQ(CompositeError("l: [a]\n", "l:\n  (>): b\n"),
            "overlay.yml:2:8: '(>)' must be a list, not a scalar");
}

TEST(CompositeTest, NonMapOverlayIsAnError) {
  EXPECT_EQ(CompositeError("a: 1\n", "[x]\n"),
            "overlay.yml:1:1: only a map can be composited, not a list");
}

TEST(ResolveListDirectivesTest, LeftoverDirectivesBecomeListsEverywhere) {
  ConfigNode node = Parse(
      "a: {(<): [p], (=): [r], (>): [z]}\n"
      "l:\n  - m: {(>): [x]}\n"
      "n: {deep: {(>): [{k: {(<): [1]}}]}}\n");
  ASSERT_TRUE(ResolveListDirectives(node).ok());
  EXPECT_EQ(node.ToYaml(), Yaml("a: [p, r, z]\nl:\n  - m: [x]\nn: {deep: [{k: [1]}]}\n"));
}

TEST(ResolveListDirectivesTest, MixedMapIsAnError) {
  ConfigNode node = Parse("a:\n  b: {(>): [x], y: 1}\n");
  Status status = ResolveListDirectives(node);
  EXPECT_EQ(status.message(),
            "base.yml:2:17: a map holding list directives ('(>)') cannot also hold the key 'y'");
}

TEST(CheckNoListDirectivesTest, NamesTheLeftoverDirective) {
  EXPECT_TRUE(CheckNoListDirectives(Parse("a: [1]\nb: {c: [{d: 1}]}\n")).ok());
  Status status = CheckNoListDirectives(Parse("a:\n  - b:\n      (>): [x]\n"));
  EXPECT_EQ(status.message(), "base.yml:3:7: '(>)' overrides a list that does not exist");
}

}  // namespace
}  // namespace cairn::project
