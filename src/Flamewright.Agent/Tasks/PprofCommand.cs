using System.Globalization;
using Flamewright.Protocol.Common;

namespace Flamewright.Agent.Tasks;

/// <summary>A task as the server sends it (command <c>PprofTaskQuery</c>): what to profile and for how long.</summary>
/// <param name="Event">Lower case, as sent: cpu, heap, allocs, block, mutex, goroutine, threadcreate.</param>
/// <param name="DurationMinutes">Minutes for cpu, block and mutex; 0 otherwise.</param>
/// <param name="CreateTime">Epoch ms; the next poll's <c>lastCommandTime</c>.</param>
/// <param name="DumpPeriod">Block profile rate or mutex fraction the task asked for; 0 when none.</param>
public sealed record PprofCommand(string SerialNumber, string TaskId, string Event, int DurationMinutes, long CreateTime, int DumpPeriod)
{
    /// <summary>The command name the server uses.</summary>
    public const string Name = "PprofTaskQuery";

    /// <summary>The events that profile over a duration.</summary>
    public bool HasDuration => Event is "cpu" or "block" or "mutex";

    /// <summary>Reads a command; <c>null</c> when it is not a pprof task or misses an argument.</summary>
    public static PprofCommand? From(Command command)
    {
        if (command.Command_ != Name)
        {
            return null;
        }

        var args = command.Args.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        if (!args.TryGetValue("TaskId", out string? taskId) || string.IsNullOrEmpty(taskId) || !args.TryGetValue("Events", out string? events))
        {
            return null;
        }

        return new PprofCommand(
            args.GetValueOrDefault("SerialNumber", ""),
            taskId,
            events.ToLowerInvariant(),
            Int(args, "Duration"),
            long.TryParse(args.GetValueOrDefault("CreateTime"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long created) ? created : 0,
            Int(args, "DumpPeriod"));
    }

    private static int Int(Dictionary<string, string> args, string key) =>
        int.TryParse(args.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : 0;
}
