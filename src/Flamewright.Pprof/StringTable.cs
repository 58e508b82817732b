namespace Flamewright.Pprof;

/// <summary>
/// Strings numbered in the order first seen, each once: the string tables of the pprof and digest writers, and the
/// names a flame view sends once each.
/// </summary>
public sealed class StringTable
{
    private readonly Dictionary<string, int> _indexes = new(StringComparer.Ordinal);
    private readonly List<string> _strings = [];

    /// <param name="first">Strings numbered first, from 0 (pprof's table starts with "").</param>
    public StringTable(params string[] first)
    {
        ArgumentNullException.ThrowIfNull(first);
        foreach (string s in first)
        {
            Index(s);
        }
    }

    /// <summary>The strings, by number.</summary>
    public IReadOnlyList<string> Strings => _strings;

    /// <summary>The number of <paramref name="value"/>, given it when first seen.</summary>
    public int Index(string value)
    {
        if (!_indexes.TryGetValue(value, out int index))
        {
            index = _strings.Count;
            _strings.Add(value);
            _indexes.Add(value, index);
        }

        return index;
    }
}
