using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Flamewright.Server.Analysis;

/// <summary>
/// Where one request's analyses spent their time, by phase, for its <c>Server-Timing</c> header (docs/server.md): the
/// wait for an analysis turn, for another request's build of the same result, the store's reads, reading the uploads'
/// profiles, building trees and the other analyses, and cutting views. Phases of analyses that run at once are summed,
/// so they can add up to more than the request took. The request's phases flow with its async calls
/// (<see cref="Current"/>); work with none set is not measured.
/// </summary>
public sealed class AnalysisPhases
{
    private static readonly AsyncLocal<AnalysisPhases?> s_current = new();

    /// <summary>The phases of the request being served, or <c>null</c> outside one.</summary>
    public static AnalysisPhases? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    private readonly ConcurrentDictionary<string, long> _ticks = new(StringComparer.Ordinal);

    public const string Turn = "turn";
    public const string Wait = "wait";
    public const string Store = "store";
    public const string Read = "read";
    public const string Build = "build";
    public const string View = "view";
    public const string Top = "top";

    /// <summary>The phases in the order a request meets them; a phase no request met is left out of the header.</summary>
    internal static readonly string[] Order = [Turn, Wait, Store, Read, Build, View, Top];

    /// <summary>Adds the time since <paramref name="started"/> (a <see cref="Stopwatch"/> timestamp) to the current request's <paramref name="phase"/>.</summary>
    public static void Add(string phase, long started)
    {
        if (Current is { } phases)
        {
            // One reading of the clock, whether the phase is new or adds up.
            phases._ticks.AddOrUpdate(phase, static (_, elapsed) => elapsed, static (_, sum, elapsed) => sum + elapsed, Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>The phases met, as <c>Server-Timing</c> entries (<c>turn;dur=12.5, build;dur=300.1</c>), in milliseconds.</summary>
    public string ToServerTiming()
    {
        var text = new StringBuilder();
        foreach (string phase in Order)
        {
            if (_ticks.TryGetValue(phase, out long ticks))
            {
                text.Append(CultureInfo.InvariantCulture, $", {phase};dur={ticks * 1000.0 / Stopwatch.Frequency:F1}");
            }
        }

        return text.ToString();
    }
}
