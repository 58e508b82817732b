using System.Diagnostics;
using System.Globalization;
using Flamewright.Server.Storage;
using Flamewright.Server.Storage.Postgres;
using Flamewright.Server.Storage.Sqlite;
using Npgsql;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// The server on each of its stores, in one run on one machine: ingest (<see cref="IngestBenchmark"/>'s agents and
/// 1 MiB profiles) and queryPprofAnalyze (<see cref="QueryBenchmark"/>'s task of 100 uploads) against a server
/// process on SQLite and one on PostgreSQL, and each store's own cost alone. PostgreSQL is a throw-away cluster on
/// loopback, started once with PostgreSQL's durable defaults; every server run gets a fresh database of it.
/// </summary>
internal static class StorageComparison
{
    /// <summary>queryPprofAnalyze repeated in a warm process: <c>query</c>'s default.</summary>
    private const int WarmRuns = 10;

    /// <summary>Timed reads of one task's uploads from each store, after an untimed one.</summary>
    private const int ReadRuns = 5;

    /// <summary>What the table prints for a figure a store does not have.</summary>
    private const string None = "-";

    /// <summary>A server's store: SQLite in <c>DataDirectory</c>, or the PostgreSQL database <c>Postgres</c>.</summary>
    private sealed record Provider(string Name, string DataDirectory, string? Postgres, Func<double> DatabaseCpuSeconds);

    /// <summary>One line of the closing table; <c>NaN</c> where a store has no such figure.</summary>
    private sealed record Row(string Measure, double Sqlite, double Postgres, string Format = "F1");

    public static async Task<int> RunAsync(int runs, int rounds)
    {
        runs = Math.Max(1, runs);
        rounds = Math.Max(1, rounds);
        var clock = Stopwatch.StartNew();
        PostgresCluster cluster = await PostgresCluster.StartAsync(durable: true);
        PostgresProcesses? processes = await PostgresProcesses.FindAsync(cluster.AdminConnectionString);
        Func<double> databaseCpu = processes is null ? () => 0 : () => processes.CpuSeconds;
        double ready = clock.Elapsed.TotalSeconds;
        object? version = await ScalarAsync(cluster.AdminConnectionString, "SHOW server_version");
        object? settings = await ScalarAsync(cluster.AdminConnectionString, SettingsQuery);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PostgreSQL {version} on {new NpgsqlConnectionStringBuilder(cluster.AdminConnectionString).Host}:{cluster.Port}, ready in {ready:F1} s; {settings}; " +
            $"its processes' CPU {(processes is null ? "unknown (not on this machine)" : "measured")}"));
        var rows = new List<Row>();
        rows.AddRange(await IngestAsync(cluster, databaseCpu, runs, rounds));
        rows.AddRange(await QueryAsync(cluster, databaseCpu));
        Print(rows, runs);
        return 0;
    }

    /// <summary>The settings that decide what a commit costs.</summary>
    private const string SettingsQuery = """
        SELECT string_agg(name || ' ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings
        WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout')
        """;

    private static async Task<List<Row>> IngestAsync(PostgresCluster cluster, Func<double> databaseCpu, int runs, int rounds)
    {
        byte[] profile = IngestBenchmark.MakeProfile();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest: {IngestBenchmark.Agents} agents, {rounds} timed rounds after 1 warm-up round, {runs} run(s) each of SQLite and PostgreSQL, alternating"));
        // Each store's cost per upload alone on one thread, without decode or gRPC: where a difference comes from.
        double sqliteStore = await IngestBenchmark.SqliteStoreMillisecondsAsync(profile);
        (double postgresStore, double postgresStoreCpu) = await PostgresStoreMillisecondsAsync(cluster, profile, databaseCpu, synchronousCommit: true);
        (double postgresLazyStore, _) = await PostgresStoreMillisecondsAsync(cluster, profile, databaseCpu, synchronousCommit: false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"per upload, alone on one thread: SQLite store {sqliteStore:F1} ms, PostgreSQL store {postgresStore:F1} ms " +
            $"(of which PostgreSQL's processes' CPU {postgresStoreCpu:F1} ms; {postgresLazyStore:F1} ms with synchronous_commit off)"));
        await CheckpointAsync(cluster);
        var sqlite = new List<IngestBenchmark.RunResult>();
        var postgres = new List<IngestBenchmark.RunResult>();
        var checkpoints = new List<double>();
        for (int run = 1; run <= runs; run++)
        {
            sqlite.Add(await IngestBenchmark.MeasureServerAsync($"SQLite     run {run}", profile, rounds));
            postgres.Add(await IngestBenchmark.MeasureServerAsync($"PostgreSQL run {run}", profile, rounds, await cluster.CreateDatabaseAsync(), databaseCpu));
            checkpoints.Add(await CheckpointAsync(cluster));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  CHECKPOINT after each PostgreSQL run (untimed): {string.Join(", ", checkpoints.Select(c => c.ToString("F0", CultureInfo.InvariantCulture)))} ms"));
        Row Ingest(string measure, Func<IngestBenchmark.RunResult, double> figure) =>
            new(measure, Median.Of(sqlite.Select(figure)), Median.Of(postgres.Select(figure)));
        return
        [
            Ingest("ingest: MiB/s", r => r.MiBPerSecond),
            Ingest("ingest: uploads/s", r => r.UploadsPerSecond),
            Ingest("ingest: agent latency p50, ms", r => r.P50Ms) with { Format = "F0" },
            Ingest("ingest: server process CPU per upload, ms", r => r.ServerCpuSeconds * 1000 / r.Uploads),
            Ingest("ingest: PostgreSQL processes' CPU per upload, ms", r => r.DatabaseCpuSeconds * 1000 / r.Uploads) with { Sqlite = double.NaN },
            new("ingest: CHECKPOINT after a run (untimed), ms", double.NaN, Median.Of(checkpoints), "F0"),
            new("store alone, one thread: ms per upload", sqliteStore, postgresStore),
            new("store alone: PostgreSQL processes' CPU per upload, ms", double.NaN, postgresStoreCpu),
            // SQLite's WAL + synchronous=NORMAL does not sync at commit either: the like-for-like of this one.
            new("store alone, PostgreSQL synchronous_commit off", sqliteStore, postgresLazyStore),
        ];
    }

    /// <summary>
    /// <see cref="IngestBenchmark.StoreMillisecondsAsync"/> on a fresh database of the cluster, and the CPU milliseconds
    /// per upload that the cluster's processes spent meanwhile (the rest of the time is this process's, or waiting).
    /// </summary>
    private static async Task<(double Milliseconds, double DatabaseCpuMilliseconds)> PostgresStoreMillisecondsAsync(
        PostgresCluster cluster, byte[] profile, Func<double> databaseCpu, bool synchronousCommit)
    {
        var database = new NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync());
        if (!synchronousCommit)
        {
            // For these connections only: a commit returns before its WAL is flushed, as SQLite's commits do in WAL
            // mode with synchronous=NORMAL; a crash of the machine (not of a process) can lose the last ones.
            database.Options = "-c synchronous_commit=off";
        }

        await using var store = new PostgresProfilingStore(database.ConnectionString);
        await store.MigrateAsync(CancellationToken.None);
        double cpu = databaseCpu();
        double milliseconds = await IngestBenchmark.StoreMillisecondsAsync(store, profile);
        return (milliseconds, (databaseCpu() - cpu) * 1000 / IngestBenchmark.StoredUploads);
    }

    private static async Task<List<Row>> QueryAsync(PostgresCluster cluster, Func<double> databaseCpu)
    {
        string work = MeasuredServer.NewDataDirectory("storage-query");
        Directory.CreateDirectory(work);
        try
        {
            Provider[] providers =
            [
                new("SQLite", Path.Combine(work, "sqlite"), null, () => 0),
                new("PostgreSQL", Path.Combine(work, "postgresql"), await cluster.CreateDatabaseAsync(), databaseCpu),
            ];
            QueryBenchmark.Scenario[] scenarios = [QueryBenchmark.RealProfileCopies(), QueryBenchmark.GeneratedReplicas()];
            var taskIds = new Dictionary<(string Provider, string Scenario), string>();
            foreach (Provider provider in providers)
            {
                Console.WriteLine($"{provider.Name}: uploading");
                using MeasuredServer server = await MeasuredServer.StartServerAsync(provider.DataDirectory, provider.Postgres);
                foreach (QueryBenchmark.Scenario scenario in scenarios)
                {
                    taskIds[(provider.Name, scenario.Name)] = await QueryBenchmark.UploadAsync(server, scenario);
                }
            }

            await CheckpointAsync(cluster);
            var rows = new List<Row>();
            foreach (QueryBenchmark.Scenario scenario in scenarios)
            {
                var cold = new double[providers.Length];
                var warm = new double[providers.Length];
                var read = new double[providers.Length];
                for (int i = 0; i < providers.Length; i++)
                {
                    Provider provider = providers[i];
                    string taskId = taskIds[(provider.Name, scenario.Name)];
                    Console.WriteLine($"{scenario.Name} on {provider.Name}:");
                    QueryBenchmark.AnalyzeTimes times = await QueryBenchmark.ColdAndWarmAsync(
                        () => MeasuredServer.StartServerAsync(provider.DataDirectory, provider.Postgres), taskId, QueryBenchmark.InstanceIds(scenario),
                        WarmRuns, withTop: false, provider.DatabaseCpuSeconds);
                    cold[i] = Median.Of(times.Cold);
                    warm[i] = Median.Of(times.Warm);
                    read[i] = await ReadMillisecondsAsync(provider, taskId);
                }

                rows.Add(new($"{scenario.Name}: queryPprofAnalyze cold, ms", cold[0], cold[1], "F0"));
                rows.Add(new($"{scenario.Name}: queryPprofAnalyze warm, ms", warm[0], warm[1], "F0"));
                rows.Add(new($"{scenario.Name}: read the 100 uploads alone, ms", read[0], read[1]));
            }

            return rows;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Median milliseconds to read every upload of the task from the provider's store, in this process.</summary>
    private static async Task<double> ReadMillisecondsAsync(Provider provider, string taskId)
    {
        if (provider.Postgres is not null)
        {
            await using var postgres = new PostgresProfilingStore(provider.Postgres);
            return await ReadMillisecondsAsync(provider.Name, postgres, taskId);
        }

        try
        {
            using var sqlite = new SqliteProfilingStore(provider.DataDirectory);
            return await ReadMillisecondsAsync(provider.Name, sqlite, taskId);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    private static async Task<double> ReadMillisecondsAsync(string name, IProfilingStore store, string taskId)
    {
        // The first read opens the pool and compiles the code: not the store's cost.
        (double first, int uploads, long bytes) = await QueryBenchmark.ReadUploadsAsync(store, taskId);
        var times = new List<double>();
        for (int i = 0; i < ReadRuns; i++)
        {
            times.Add((await QueryBenchmark.ReadUploadsAsync(store, taskId)).Milliseconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name}, in process: read {uploads} uploads ({bytes / 1048576.0:F1} MiB): first {first:F0} ms, then median {Median.Of(times):F1} ms (min {times.Min():F1}, max {times.Max():F1})"));
        return Median.Of(times);
    }

    /// <summary>
    /// Writes every dirty page of the cluster and syncs it; returns the milliseconds it took. Run between timed
    /// parts so that one part's writes are not flushed during the next: the SQLite runs delete their data directory.
    /// </summary>
    private static async Task<double> CheckpointAsync(PostgresCluster cluster)
    {
        var clock = Stopwatch.StartNew();
        await ScalarAsync(cluster.AdminConnectionString, "CHECKPOINT");
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Runs one statement on its own connection and returns the first column of its first row.</summary>
    internal static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
#pragma warning disable CA2100 // Statements are constants of this program.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        return await command.ExecuteScalarAsync();
    }

    private static void Print(List<Row> rows, int runs)
    {
        int width = rows.Max(r => r.Measure.Length);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SQLite against PostgreSQL: ingest medians of {runs} run(s) each; queryPprofAnalyze cold median of {QueryBenchmark.ColdRuns} processes, warm of {WarmRuns}; reads median of {ReadRuns}"));
        Console.WriteLine($"{"".PadRight(width)}  {"SQLite",10}  {"PostgreSQL",10}  {"PG / SQLite",11}");
        foreach (Row row in rows)
        {
            string ratio = double.IsNaN(row.Sqlite) || double.IsNaN(row.Postgres) || row.Sqlite == 0 ? None : (row.Postgres / row.Sqlite).ToString("F2", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Measure.PadRight(width)}  {Figure(row.Sqlite, row.Format),10}  {Figure(row.Postgres, row.Format),10}  {ratio,11}"));
        }
    }

    private static string Figure(double value, string format) =>
        double.IsNaN(value) ? None : value.ToString(format, CultureInfo.InvariantCulture);
}
