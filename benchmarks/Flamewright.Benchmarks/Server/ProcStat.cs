using System.Globalization;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// A process's counters from Linux's <c>/proc/PID/stat</c> (proc(5)), read without holding a handle on the process:
/// the benchmarks measure processes they did not start (PostgreSQL's) as well as their own.
/// </summary>
internal readonly record struct ProcStat(int ParentId, long MinorFaults, double CpuSeconds, double ReapedChildrenCpuSeconds)
{
    /// <summary>proc(5)'s unit for CPU times: USER_HZ, 100 on Linux.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>The counters of <paramref name="processId"/>; <c>null</c> where there are none (gone, or not Linux).</summary>
    public static ProcStat? Read(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The fields after the command name, which is in parentheses and may hold spaces: [0] is proc(5)'s field 3.
        string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return new ProcStat((int)Field(4), Field(10), (Field(14) + Field(15)) / TicksPerSecond, (Field(16) + Field(17)) / TicksPerSecond);
    }

    /// <summary>
    /// A size field of <c>/proc/PID/status</c> in bytes (<c>VmRSS</c>, resident now; <c>VmHWM</c>, the most it was
    /// resident since it started); <c>null</c> where there is none (gone, or not Linux).
    /// </summary>
    public static long? StatusBytes(int processId, string field)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{processId}/status"))
            {
                // "VmHWM:	  123456 kB"
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    string[] parts = line[(field.Length + 1)..].Split(' ', '\t').Where(p => p.Length > 0).ToArray();
                    return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>Processes whose parent is <paramref name="parentId"/>, as they are now.</summary>
    public static IEnumerable<ProcStat> ChildrenOf(int parentId)
    {
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int id)
                && Read(id) is { } stat && stat.ParentId == parentId)
            {
                yield return stat;
            }
        }
    }
}
