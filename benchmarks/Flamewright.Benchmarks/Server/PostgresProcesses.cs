using System.Globalization;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// The CPU a PostgreSQL cluster on this machine uses: with PostgreSQL as the store, part of each upload's cost is
/// spent in its backends, WAL writer and checkpointer, on the same two cores as the server, outside the server process.
/// </summary>
internal sealed class PostgresProcesses
{
    private readonly int _postmaster;

    private PostgresProcesses(int postmaster) => _postmaster = postmaster;

    /// <summary>
    /// CPU seconds of the postmaster and its children so far: the live ones, and those that have ended (a backend
    /// ends with its connection; its time then moves to the postmaster's reaped-children figure).
    /// </summary>
    public double CpuSeconds
    {
        get
        {
            if (ProcStat.Read(_postmaster) is not { } postmaster)
            {
                return 0;
            }

            return postmaster.CpuSeconds + postmaster.ReapedChildrenCpuSeconds
                + ProcStat.ChildrenOf(_postmaster).Sum(child => child.CpuSeconds + child.ReapedChildrenCpuSeconds);
        }
    }

    /// <summary>
    /// The cluster that <paramref name="adminConnectionString"/> (a superuser's) reaches, found by its data
    /// directory's postmaster.pid; <c>null</c> when that is not on this machine or not readable.
    /// </summary>
    public static async Task<PostgresProcesses?> FindAsync(string adminConnectionString)
    {
        string data = (string)(await StorageComparison.ScalarAsync(adminConnectionString, "SHOW data_directory"))!;
        string pidFile = Path.Combine(data, "postmaster.pid");
        try
        {
            // The file's first line is the postmaster's process id.
            int id = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
            return ProcStat.Read(id) is null ? null : new PostgresProcesses(id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
