using System.Data.Common;
using Npgsql;

namespace Flamewright.Server.Storage.Postgres;

/// <summary>
/// The shared store: a PostgreSQL database that several server nodes use at once. PostgreSQL serialises
/// writers itself; what must be atomic across nodes (migrations, the ALREADY_PROFILING check) takes an
/// advisory lock, which the database releases when the holder's connection or transaction ends, so a node
/// killed while holding one cannot wedge the others.
/// </summary>
public sealed class PostgresProfilingStore : SqlProfilingStore, IAsyncDisposable, IDisposable
{
    // Advisory lock keys are (class, object) pairs of int4: the class says what is locked, the object which one.
    // 0x46570000 ("FW" in the high bytes) keeps them apart from locks other software takes in the same database.
    private const int SchemaLockClass = 0x46570001;
    private const int ServiceTasksLockClass = 0x46570002;

    private readonly NpgsqlDataSource _dataSource;

    /// <param name="connectionString">An Npgsql connection string (see <see cref="PostgresConnection.Build"/>).</param>
    public PostgresProfilingStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        string hosts = builder.Host ?? "";
        // A host list carries its ports; a single host's port is its own setting.
        string server = hosts.Contains(',', StringComparison.Ordinal) || hosts.Contains(':', StringComparison.Ordinal) ? hosts : $"{hosts}:{builder.Port}";
        Location = $"PostgreSQL {server}/{builder.Database ?? builder.Username}";
        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public override string Location { get; }

    /// <summary>A standby, or a database set read-only, answers queries and refuses every write.</summary>
    public override async Task<string?> WriteProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using NpgsqlConnection connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using NpgsqlCommand command = new("SELECT current_setting('transaction_read_only')", connection);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is "on"
                ? "the database accepts no writes (a standby, or default_transaction_read_only is on)"
                : null;
        }
        catch (DbException e)
        {
            return e.Message.ReplaceLineEndings(" ");
        }
    }

    protected override IReadOnlyList<Migration> Migrations { get; } =
    [
        new Migration(1, "services, instances, tasks, logs, uploads",
            SchemaVersion1(sequenceKey: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", binary: "BYTEA") + """

            -- Profiles arrive gzip-compressed: EXTERNAL keeps them out of line (TOAST) without PostgreSQL trying,
            -- and failing, to compress them again; listing uploads never reads them.
            ALTER TABLE uploads ALTER COLUMN profile SET STORAGE EXTERNAL;
            """),
        new Migration(2, "uploads carry their digest (docs/digest.md)", SchemaVersion2Digest("BYTEA") + """

            -- Read whole by every cold analysis: kept out of line and not compressed, so reading it costs no inflating.
            ALTER TABLE uploads ALTER COLUMN digest SET STORAGE EXTERNAL;
            """),
        new Migration(3, "views of tasks kept for restarts and other nodes", SchemaVersion3Views("BYTEA") + """

            ALTER TABLE task_views ALTER COLUMN view SET STORAGE EXTERNAL;
            """),
        new Migration(4, "dashboard templates of the web UI", SchemaVersion4Templates),
    ];

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>PostgreSQL runs writers side by side; nothing to hold in this process.</summary>
    protected override ValueTask<IDisposable> EnterWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable>(NoWriterLock.Instance);

    protected override async Task<IAsyncDisposable> LockSchemaAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@class, 0)", cancellationToken, ("class", SchemaLockClass)).ConfigureAwait(false);
        return new SchemaLock(connection);
    }

    /// <summary>
    /// Every node creating a task for this service queues here until the creating transaction ends, so the
    /// ALREADY_PROFILING count and the insert are one step across nodes. Keyed by a hash of the service id:
    /// two services sharing a hash only wait for each other, they never get a wrong answer.
    /// </summary>
    protected override Task LockServiceTasksAsync(DbConnection connection, DbTransaction transaction, string serviceId, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(@class, hashtext(@service))", cancellationToken,
            ("class", ServiceTasksLockClass), ("service", serviceId));

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public void Dispose() => _dataSource.Dispose();

    private sealed class SchemaLock(DbConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // A broken connection has lost the lock with the session; nothing to release then.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@class, 0)", CancellationToken.None, ("class", SchemaLockClass)).ConfigureAwait(false);
            }
        }
    }

    private sealed class NoWriterLock : IDisposable
    {
        public static readonly NoWriterLock Instance = new();

        public void Dispose()
        {
        }
    }
}
