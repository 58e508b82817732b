using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>A function that calls, or is called by, the function of a <see cref="Sandwich"/>, and the value of the samples where it does.</summary>
public sealed record CallEdge(string Name, long Value);

/// <summary>
/// One function in its context: what calls it and what it calls. <see cref="Callers"/> and <see cref="Callees"/> are
/// the direct calls with the value of the samples that make them, as <c>go tool pprof -peek</c> prints them (each call
/// counted once per sample, a function calling itself left out); <see cref="CallersTree"/> and <see cref="CalleesTree"/>
/// are the two graphs of a sandwich view (docs/ui.md), whose roots have the function as only child. A sample counts in
/// them once, at the function's outermost call, so recursion is counted once and each graph's function frame has the
/// function's cum: the callers graph continues from that call towards the program's root (its callers, theirs, …), the
/// callees graph from that call towards the leaf, recursive calls included.
/// </summary>
public sealed class Sandwich
{
    private Sandwich(string function, ValueType sampleType, long flat, long cum, long absoluteTotal, IReadOnlyList<CallEdge> callers,
        IReadOnlyList<CallEdge> callees, FlameTree callersTree, FlameTree calleesTree)
    {
        Function = function;
        SampleType = sampleType;
        Flat = flat;
        Cum = cum;
        AbsoluteTotal = absoluteTotal;
        Callers = callers;
        Callees = callees;
        CallersTree = callersTree;
        CalleesTree = calleesTree;
    }

    public string Function { get; }

    public ValueType SampleType { get; }

    /// <summary>The value of the samples whose leaf frame is the function.</summary>
    public long Flat { get; }

    /// <summary>The value of the samples with the function anywhere in the stack, each counted once.</summary>
    public long Cum { get; }

    /// <summary>The sum of absolute sample values over every sample: what pprof's percentages are of.</summary>
    public long AbsoluteTotal { get; }

    /// <summary>The functions that call it directly, heaviest first (then by name).</summary>
    public IReadOnlyList<CallEdge> Callers { get; }

    /// <summary>The functions it calls directly, heaviest first (then by name).</summary>
    public IReadOnlyList<CallEdge> Callees { get; }

    /// <summary>root → the function → its caller → that caller's caller…: drawn upside down, above the function.</summary>
    public FlameTree CallersTree { get; }

    /// <summary>root → the function → what it calls…: the function's own flame graph, every call of it merged.</summary>
    public FlameTree CalleesTree { get; }

    /// <summary>The function named <paramref name="function"/> (a frame name, as the graph shows it) in the profiles' samples that <paramref name="options"/> keep.</summary>
    /// <exception cref="PprofFormatException">No kept sample has a frame of that name; the sample type is unknown; a limit.</exception>
    public static Sandwich Build(IReadOnlyList<Profile> profiles, FlameOptions options, string function)
    {
        ArgumentNullException.ThrowIfNull(function);
        WeightedStacks stacks = WeightedStacks.Build(profiles, options);
        int target = stacks.Frames.IdOf(function);
        var callers = new Dictionary<int, long>();
        var callees = new Dictionary<int, long>();
        var callersTrie = new FlameTreeBuilder.Trie(1024, options.MaxNodes);
        var calleesTrie = new FlameTreeBuilder.Trie(1024, options.MaxNodes);
        var seen = new HashSet<int>();
        long flat = 0, cum = 0;
        bool found = false;
        foreach ((ReadOnlySpan<int> path, long value) in stacks)
        {
            int outermost = target < 0 ? -1 : path.IndexOf(target);
            if (outermost < 0)
            {
                continue;
            }

            found = true;
            cum += value;
            flat += path[^1] == target ? value : 0;
            // pprof's edges: each adjacent pair once per sample, a call of the function by itself left out.
            seen.Clear();
            for (int i = outermost; i < path.Length; i++)
            {
                if (path[i] == target && i > 0 && path[i - 1] != target && seen.Add(path[i - 1]))
                {
                    callers[path[i - 1]] = callers.GetValueOrDefault(path[i - 1]) + value;
                }
            }

            seen.Clear();
            for (int i = outermost; i < path.Length - 1; i++)
            {
                if (path[i] == target && path[i + 1] != target && seen.Add(path[i + 1]))
                {
                    callees[path[i + 1]] = callees.GetValueOrDefault(path[i + 1]) + value;
                }
            }

            int node = callersTrie.FindOrAdd(0, target);
            for (int i = outermost - 1; i >= 0; i--)
            {
                node = callersTrie.FindOrAdd(node, path[i]);
            }

            callersTrie.AddSelf(node, value);
            node = calleesTrie.FindOrAdd(0, target);
            for (int i = outermost + 1; i < path.Length; i++)
            {
                node = calleesTrie.FindOrAdd(node, path[i]);
            }

            calleesTrie.AddSelf(node, value);
        }

        if (!found)
        {
            PprofFormatException.Throw($"no sample of this selection has a frame named '{Shortened(function)}'");
        }

        return new Sandwich(function, stacks.SampleType, flat, cum, stacks.AbsoluteTotal, Edges(callers, stacks.Frames), Edges(callees, stacks.Frames),
            callersTrie.ToTree(stacks), calleesTrie.ToTree(stacks));
    }

    private static List<CallEdge> Edges(Dictionary<int, long> values, FrameTable frames) =>
        [.. values.Select(v => new CallEdge(frames[v.Key], v.Value))
            .OrderByDescending(e => Magnitude.Abs(e.Value)).ThenBy(e => e.Name, StringComparer.Ordinal)];

    /// <summary>How much of a name an error quotes: enough to recognise a Go name, short enough for one line.</summary>
    private const int QuotedNameLength = 200;

    /// <summary>A name as a one-line error quotes it: at most <see cref="QuotedNameLength"/> characters, line breaks as spaces.</summary>
    private static string Shortened(string name) =>
        (name.Length <= QuotedNameLength ? name : name[..QuotedNameLength] + "…").ReplaceLineEndings(" ");
}
