using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Flamewright.Testing;

/// <summary>
/// A real, throw-away PostgreSQL server on loopback: one per test process, made with initdb under the temp directory
/// on first use and stopped once the process is gone. FLAMEWRIGHT_TEST_POSTGRESQL (a connection string whose user can
/// CREATE DATABASE) points the tests at an existing server instead. Other test projects and the benchmarks link this
/// file, so it uses only the BCL and Npgsql; the benchmarks start a durable cluster of their own with <see cref="StartAsync"/>.
/// </summary>
internal sealed class PostgresCluster
{
    private const string DirPrefix = "flamewright-pg-";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<PostgresCluster>> Shared = new(() => Task.Run(() => StartAsync(durable: false)));
    private static readonly string Runuser = File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "runuser";

    private readonly NpgsqlConnectionStringBuilder _admin;
    private readonly bool _owned;
    private readonly bool _durable;

    private PostgresCluster(NpgsqlConnectionStringBuilder admin, bool owned, bool durable)
    {
        _admin = admin;
        _owned = owned;
        _durable = durable;
    }

    /// <summary>To database "postgres" (or the one FLAMEWRIGHT_TEST_POSTGRESQL names).</summary>
    public string AdminConnectionString => _admin.ConnectionString;

    public int Port => _admin.Port;

    /// <summary>One cluster per test process, started on first use, stopped when the process is gone.</summary>
    public static Task<PostgresCluster> SharedAsync() => Shared.Value;

    /// <summary>A fresh, empty database for one test; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        string name = "fw_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            // With fsync off, copying the template's files beats WAL-logging them (15's default): 45 ms against 90.
            // On a durable cluster FILE_COPY would force two checkpoints per database, writing out whatever the last
            // benchmark run left behind in the middle of the next; WAL_LOG, the default, forces none.
            string strategy = _owned && !_durable && connection.PostgreSqlVersion.Major >= 15 ? " STRATEGY = FILE_COPY" : "";
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{strategy}", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // Every test has its own database and so its own pool; idle connections of finished tests are closed soon,
        // or a few hundred tests would use up max_connections.
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, ConnectionIdleLifetime = 10, ConnectionPruningInterval = 2 }.ConnectionString;
    }

    /// <summary>
    /// A cluster of the caller's own (<see cref="SharedAsync"/> is the tests'), stopped when this process is gone.
    /// </summary>
    /// <param name="durable">
    /// Leave fsync, synchronous_commit and full_page_writes at PostgreSQL's defaults (on), as a production server runs,
    /// for figures that compare with other stores; off, the tests' setting, a commit waits for no disk. A server that
    /// FLAMEWRIGHT_TEST_POSTGRESQL names keeps its own settings either way.
    /// </param>
    public static async Task<PostgresCluster> StartAsync(bool durable)
    {
        if (Environment.GetEnvironmentVariable("FLAMEWRIGHT_TEST_POSTGRESQL") is { Length: > 0 } external)
        {
            var admin = new NpgsqlConnectionStringBuilder(external);
            admin.Database ??= "postgres";
            return new PostgresCluster(admin, owned: false, durable);
        }

        string pgCtl = Path.Combine(FindBinaries(), "pg_ctl");
        foreach (string stale in Directory.EnumerateDirectories(Path.GetTempPath(), DirPrefix + "*").Where(IsStale))
        {
            await RemoveAsync(pgCtl, stale);
        }

        // owner.pid and server.log sit next to the data directory: initdb wants an empty (or no) directory.
        string dir = Path.Combine(Path.GetTempPath(), DirPrefix + Guid.NewGuid().ToString("N")[..12]);
        string data = Path.Combine(dir, "data"), log = Path.Combine(dir, "server.log");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "owner.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            StartReaper(pgCtl, dir);
            if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
            {
                // initdb and postgres refuse to run as root: they run as postgres, which must reach and own the directory.
                UnixFileMode temp = File.GetUnixFileMode(Path.GetTempPath());
                if (!temp.HasFlag(UnixFileMode.OtherExecute))
                {
                    File.SetUnixFileMode(Path.GetTempPath(), temp | UnixFileMode.OtherExecute);
                }

                await RunAsync("chown", ["-R", "postgres:postgres", dir]);
            }

            await RunAsPostgresAsync(Path.Combine(Path.GetDirectoryName(pgCtl)!, "initdb"),
                ["-D", data, "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--locale=C", "--no-sync"]);
            // Settings go in the file rather than on pg_ctl's -o, which pg_ctl hands to a shell. No Unix socket, so
            // nothing touches /var/run/postgresql; for tests durability is off because the cluster is thrown away.
            const string NotDurable = """
                fsync = off
                synchronous_commit = off
                full_page_writes = off

                """;
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), """

                listen_addresses = '127.0.0.1'
                unix_socket_directories = ''
                max_connections = 200

                """ + (durable ? "" : NotDurable));
            for (int attempt = 1; ; attempt++)
            {
                int port = FreePort();
                File.Delete(log);
                try
                {
                    await RunAsPostgresAsync(pgCtl, ["start", "-w", "-t", "60", "-D", data, "-l", log, "-o", $"-p {port}"], TimeSpan.FromSeconds(90));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    string tail = string.Join(" | ", File.Exists(log) ? File.ReadLines(log).Where(l => l.Length > 0).TakeLast(5) : []);
                    // Another process may take the free port between our check and postgres binding it.
                    if (attempt < 3 && tail.Contains("already in use", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    throw new InvalidOperationException($"PostgreSQL did not start in {dir}: {e.Message}; server.log: {tail}", e);
                }

                return new PostgresCluster(new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Username = "postgres", Database = "postgres" }, owned: true, durable);
            }
        }
        catch
        {
            await RemoveAsync(pgCtl, dir);
            throw;
        }
    }

    private static string FindBinaries()
    {
        static bool Has(string? bin) => !string.IsNullOrEmpty(bin) && File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl"));
        string? bin = Environment.GetEnvironmentVariable("FLAMEWRIGHT_POSTGRES_BIN");
        if (string.IsNullOrEmpty(bin))
        {
            // Debian installs each major version side by side; the newest wins.
            bin = (Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql") : [])
                .Select(v => (Bin: Path.Combine(v, "bin"), Ok: decimal.TryParse(Path.GetFileName(v), NumberStyles.Number, CultureInfo.InvariantCulture, out decimal n), Version: n))
                .Where(v => v.Ok && Has(v.Bin))
                .OrderByDescending(v => v.Version)
                .Select(v => v.Bin)
                .FirstOrDefault() ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').FirstOrDefault(Has);
        }

        return Has(bin) ? bin! : throw new InvalidOperationException(
            "PostgreSQL's initdb and pg_ctl were not found ($FLAMEWRIGHT_POSTGRES_BIN, /usr/lib/postgresql/*/bin, PATH): run `bash .ci/setup` (installs postgresql) or set FLAMEWRIGHT_TEST_POSTGRESQL to a connection string of a server whose user can CREATE DATABASE");
    }

    /// <summary>A cluster whose test process is gone: a killed test host leaves its postgres running.</summary>
    private static bool IsStale(string dir)
    {
        var pidFile = new FileInfo(Path.Combine(dir, "owner.pid"));
        if (!pidFile.Exists)
        {
            // Either being made right now by another test process, or left half-made long ago.
            return Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddMinutes(-1);
        }

        try
        {
            using Process owner = Process.GetProcessById(int.Parse(File.ReadAllText(pidFile.FullName).Trim(), CultureInfo.InvariantCulture));
            // A process that started after the pid file was written only reuses the owner's pid.
            return owner.HasExited || owner.StartTime.ToUniversalTime() > pidFile.LastWriteTimeUtc.AddSeconds(2);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Best effort: stops the cluster in <paramref name="dir"/> and deletes the directory.</summary>
    private static async Task RemoveAsync(string pgCtl, string dir)
    {
        try
        {
            if (File.Exists(Path.Combine(dir, "data", "postmaster.pid")))
            {
                await RunAsPostgresAsync(pgCtl, ["stop", "-m", "immediate", "-D", Path.Combine(dir, "data")]);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or Win32Exception or IOException)
        {
            // Already stopped, or not ours to stop: the directory goes all the same.
        }

        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another user's cluster, or another process removing it too.
        }
    }

    /// <summary>
    /// Starts a process that stops the cluster and deletes its directory once this process is gone. Not a ProcessExit
    /// handler: xunit 2 has no assembly fixture, and vstest kills the test host 100 ms after asking it to exit, before
    /// pg_ctl and the deletion of some 40 MB are done. The reaper also outlives a test host that is killed outright;
    /// started before initdb, it leaves only a few milliseconds to the stale-cluster sweep of the next run.
    /// </summary>
    private static void StartReaper(string pgCtl, string dir)
    {
        // A fixed script with its values as arguments: nothing is quoted into it. It ignores the signals a Ctrl-C
        // or a hang-up sends to the whole process group, and holds none of the test host's output pipes.
        const string Script = """
            trap '' HUP INT TERM
            exec </dev/null >/dev/null 2>&1
            pid=$1 dir=$2
            shift 2
            while kill -0 "$pid"; do sleep 1; done
            "$@"
            rm -rf "$dir"
            """;
        (string file, string[] args) = AsPostgres(pgCtl, ["stop", "-m", "immediate", "-D", Path.Combine(dir, "data")]);
        string[] reaperArgs = ["-c", Script, "flamewright-pg-reaper", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), dir, file, .. args];
        var info = new ProcessStartInfo("/bin/sh", reaperArgs) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        using Process reaper = Process.Start(info) ?? throw new InvalidOperationException("the reaper of the PostgreSQL test cluster did not start");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>initdb, pg_ctl and postgres refuse to run as root: as root, they run as the postgres user.</summary>
    private static (string File, string[] Args) AsPostgres(string file, string[] args) =>
        Environment.IsPrivilegedProcess ? (Runuser, ["-u", "postgres", "--", file, .. args]) : (file, args);

    private static Task<string> RunAsPostgresAsync(string file, string[] args, TimeSpan? timeout = null)
    {
        (string command, string[] arguments) = AsPostgres(file, args);
        return RunAsync(command, arguments, timeout);
    }

    /// <summary>Runs a command to its end and returns its output; throws a one-line error if it fails or hangs.</summary>
    private static async Task<string> RunAsync(string file, string[] args, TimeSpan? timeout = null)
    {
        // "/" because postgres may not be allowed into the test's working directory.
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        string command = string.Join(' ', [file, .. args]);
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"`{command}` did not start");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? CommandTimeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
            await Task.WhenAll(stdout, stderr).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{command}` did not finish within {(timeout ?? CommandTimeout).TotalSeconds:0} s");
        }

        return process.ExitCode == 0 ? await stdout : throw new InvalidOperationException(
            $"`{command}` exited with {process.ExitCode}: {string.Join(' ', (await stderr + await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
    }
}
