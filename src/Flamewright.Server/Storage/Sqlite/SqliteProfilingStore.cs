using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Flamewright.Server.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in write-ahead-log mode under the data directory. Readers run beside
/// the single writer; this process serialises its own writers so that none waits on SQLite's busy lock.
/// </summary>
public sealed class SqliteProfilingStore : SqlProfilingStore, IDisposable
{
    /// <summary>The database file's name inside the data directory.</summary>
    public const string FileName = "flamewright.db";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    public SqliteProfilingStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDirectory, FileName));
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            // Seconds a statement waits for a lock held by another process before failing.
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Location => Path;

    protected override IReadOnlyList<Migration> Migrations { get; } =
    [
        new Migration(1, "services, instances, tasks, logs, uploads", """
            CREATE TABLE services (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, layer TEXT NOT NULL,
                first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL);
            CREATE TABLE instances (
                id TEXT PRIMARY KEY, service_id TEXT NOT NULL, name TEXT NOT NULL, layer TEXT NOT NULL,
                properties TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL);
            CREATE INDEX instances_by_service ON instances (service_id, last_seen);
            CREATE TABLE tasks (
                id TEXT PRIMARY KEY, service_id TEXT NOT NULL, event TEXT NOT NULL, duration INTEGER, dump_period INTEGER,
                create_time BIGINT NOT NULL, dispatch_until BIGINT NOT NULL, profiling_until BIGINT NOT NULL);
            CREATE INDEX tasks_by_service ON tasks (service_id, create_time);
            CREATE TABLE task_instances (
                task_id TEXT NOT NULL, instance_id TEXT NOT NULL, position INTEGER NOT NULL,
                PRIMARY KEY (task_id, instance_id));
            CREATE INDEX task_instances_by_instance ON task_instances (instance_id);
            CREATE TABLE task_logs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL, instance_id TEXT NOT NULL,
                instance_name TEXT NOT NULL, operation INTEGER NOT NULL, operation_time BIGINT NOT NULL, message TEXT);
            CREATE INDEX task_logs_by_task ON task_logs (task_id, seq);
            CREATE TABLE uploads (
                task_id TEXT NOT NULL, instance_id TEXT NOT NULL, instance_name TEXT NOT NULL, uploaded_at BIGINT NOT NULL,
                compressed_bytes BIGINT NOT NULL, decompressed_bytes BIGINT NOT NULL, sample_count BIGINT NOT NULL,
                sample_types TEXT NOT NULL, profile BLOB NOT NULL,
                PRIMARY KEY (task_id, instance_id));
            """),
    ];

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using SqliteCommand pragma = connection.CreateCommand();
            // WAL: readers never block the writer. NORMAL sync is durable against a killed process, which is
            // the failure this server must survive; only a power loss can take the last commits.
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override async ValueTask<IDisposable> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(_writer);
    }

    public void Dispose() => _writer.Dispose();

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
