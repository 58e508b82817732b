using Flamewright.Pprof;
using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Export;
using Flamewright.Pprof.Model;

namespace Flamewright.Testing;

/// <summary>The pprof engine run directly on profile bytes: what the server's answers must equal.</summary>
internal static class Engine
{
    public static Profile Read(byte[] bytes) => ProfileReader.Read(bytes);

    /// <summary>The merged flame tree of these profiles.</summary>
    public static FlameTree Tree(FlameOptions options, params byte[][] profiles) => FlameTreeBuilder.Build([.. profiles.Select(Read)], options);

    /// <summary>The root total of these profiles merged, weighted by <paramref name="sampleType"/>.</summary>
    public static long Total(byte[] profile, string sampleType) => Tree(new FlameOptions { SampleType = sampleType }, profile).Total;

    /// <summary>The tree as SkyWalking's element list, serialised as the GraphQL answer is.</summary>
    public static string ElementsJson(FlameTree tree) =>
        System.Text.Json.JsonSerializer.Serialize(SkyWalkingTree.Elements(tree).Select(e => new { id = e.Id, parentId = e.ParentId, codeSignature = e.CodeSignature, total = e.Total, self = e.Self }));
}
