using System.Globalization;
using Flamewright.Pprof.Analysis;

namespace Flamewright.Pprof.Export;

/// <summary>Prints a <see cref="TopTable"/> in the layout of <c>go tool pprof -top</c>.</summary>
public static class TopText
{
    /// <summary>Rows a top table shows unless told otherwise: enough to see where the time goes.</summary>
    public const int DefaultRows = 30;

    /// <param name="table">The table to print.</param>
    /// <param name="writer">Where to print it.</param>
    /// <param name="limit">How many rows at most; 0 prints all.</param>
    public static void Write(TopTable table, TextWriter writer, int limit = 0)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(writer);
        string unit = table.SampleType.Unit;
        int rows = limit > 0 ? Math.Min(limit, table.Entries.Count) : table.Entries.Count;
        long shown = 0;
        for (int i = 0; i < rows; i++)
        {
            shown += table.Entries[i].Flat;
        }

        writer.Write(string.Create(CultureInfo.InvariantCulture,
            $"Type: {table.SampleType.Type} ({unit})\n"));
        writer.Write(string.Create(CultureInfo.InvariantCulture,
            $"Showing {rows} of {table.Entries.Count} functions, accounting for {ValueFormat.Human(shown, unit)}, {Percent(table, shown)} of {ValueFormat.Human(table.AbsoluteTotal, unit)} total\n"));
        writer.Write("      flat  flat%   sum%        cum   cum%\n");
        // As pprof prints them: percentages of absolute values, sum% the running signed flat sum made absolute.
        long sum = 0;
        for (int i = 0; i < rows; i++)
        {
            TopEntry entry = table.Entries[i];
            sum += entry.Flat;
            writer.Write(string.Create(CultureInfo.InvariantCulture,
                $"{ValueFormat.Human(entry.Flat, unit),10} {Percent(table, entry.Flat),6} {Percent(table, sum),6} {ValueFormat.Human(entry.Cum, unit),10} {Percent(table, entry.Cum),6}  {FrameNameText.OneLine(entry.Name)}\n"));
        }
    }

    private static string Percent(TopTable table, long value) => ValueFormat.Percent(Math.Abs(table.Percent(value)));
}
