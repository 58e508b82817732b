using System.Globalization;
using System.Text;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>
/// Folded stacks (<c>a;b;c 123</c>), the input of flamegraph.pl, speedscope and many other tools: one line
/// per distinct stack with a non-zero self value, root first, sorted by ordinal order of the line.
/// </summary>
/// <remarks>
/// Samples without locations have no stack to print: they count in <see cref="FlameTree.Total"/> at the root,
/// but this format cannot express a stack of zero frames, so they are left out. A <c>;</c> or line break
/// inside a (hostile) frame name would change the meaning of the line and is replaced by a space.
/// </remarks>
public static class FoldedStacks
{
    public static IReadOnlyList<string> Lines(FlameTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var lines = new List<string>();
        var builder = new StringBuilder();
        tree.ForEachPath((node, path) =>
        {
            long self = tree.SelfOf(node);
            if (self == 0)
            {
                return;
            }

            builder.Clear();
            foreach (int step in path)
            {
                builder.Append(FrameNameText.OneLine(tree.NameOf(step), ';')).Append(';');
            }

            builder.Length--;
            builder.Append(' ').Append(self.ToString(CultureInfo.InvariantCulture));
            lines.Add(builder.ToString());
        });
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static void Write(FlameTree tree, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (string line in Lines(tree))
        {
            writer.Write(line);
            writer.Write('\n');
        }
    }
}
