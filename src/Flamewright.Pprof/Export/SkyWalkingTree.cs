using System.Globalization;
using System.Text.Json;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>One element of SkyWalking's <c>PprofStackTree</c>: a flat, pre-order list of frames.</summary>
public sealed record StackElement(string Id, string ParentId, string CodeSignature, long Total, long Self);

/// <summary>
/// The tree as SkyWalking's element list (<c>PprofStackElement</c>): pre-order; the root has id <c>0</c>,
/// parentId <c>-1</c> and codeSignature <c>root</c>; ids are the node indexes, so children follow the tree's
/// deterministic order. Unlike SkyWalking, total and self are weighted by sample values.
/// </summary>
public static class SkyWalkingTree
{
    public static IReadOnlyList<StackElement> Elements(FlameTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var elements = new StackElement[tree.Count];
        for (int node = 0; node < tree.Count; node++)
        {
            elements[node] = new StackElement(
                node.ToString(CultureInfo.InvariantCulture),
                tree.ParentOf(node).ToString(CultureInfo.InvariantCulture),
                tree.NameOf(node),
                tree.TotalOf(node),
                tree.SelfOf(node));
        }

        return elements;
    }

    /// <summary>
    /// At most <paramref name="maxElements"/> elements: the heaviest nodes with their parents
    /// (<see cref="HeaviestNodes"/>), renumbered in pre-order, each with its exact total and self.
    /// </summary>
    /// <returns>The elements, and how many nodes of the tree were left out.</returns>
    public static (IReadOnlyList<StackElement> Elements, int Omitted) Elements(FlameTree tree, int maxElements)
    {
        ArgumentNullException.ThrowIfNull(tree);
        int[] kept = HeaviestNodes.Select(tree.Count, tree.ParentOf, tree.TotalOf, maxElements);
        if (kept.Length == tree.Count)
        {
            return (Elements(tree), 0);
        }

        int[] parents = HeaviestNodes.RenumberedParents(kept, tree.ParentOf);
        var elements = new StackElement[kept.Length];
        for (int i = 0; i < kept.Length; i++)
        {
            elements[i] = new StackElement(
                i.ToString(CultureInfo.InvariantCulture),
                parents[i].ToString(CultureInfo.InvariantCulture),
                tree.NameOf(kept[i]),
                tree.TotalOf(kept[i]),
                tree.SelfOf(kept[i]));
        }

        return (elements, tree.Count - kept.Length);
    }

    /// <summary>Writes <c>{"elements":[{"id":"0","parentId":"-1","codeSignature":"root","total":N,"self":N},...]}</c>.</summary>
    public static void Write(FlameTree tree, Stream output)
    {
        ArgumentNullException.ThrowIfNull(tree);
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WritePropertyName("elements");
        json.WriteStartArray();
        Span<char> number = stackalloc char[16];
        for (int node = 0; node < tree.Count; node++)
        {
            json.WriteStartObject();
            node.TryFormat(number, out int written, provider: CultureInfo.InvariantCulture);
            json.WriteString("id", number[..written]);
            tree.ParentOf(node).TryFormat(number, out written, provider: CultureInfo.InvariantCulture);
            json.WriteString("parentId", number[..written]);
            json.WriteString("codeSignature", tree.NameOf(node));
            json.WriteNumber("total", tree.TotalOf(node));
            json.WriteNumber("self", tree.SelfOf(node));
            json.WriteEndObject();
            JsonExport.FlushWhenFull(json);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
