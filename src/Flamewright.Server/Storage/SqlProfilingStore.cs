using System.Data;
using System.Data.Common;
using System.Text.Json;
using Flamewright.Server.Tasks;

namespace Flamewright.Server.Storage;

/// <summary>A schema change: applied once, in order, inside a transaction.</summary>
public sealed record Migration(int Version, string Description, string Sql);

/// <summary>
/// <see cref="IProfilingStore"/> over ADO.NET with SQL that SQLite and PostgreSQL both run: <c>@name</c>
/// parameters, <c>INSERT … ON CONFLICT</c>, BIGINT times. A provider brings its connection, its schema
/// migrations and how it serialises writers.
/// </summary>
public abstract class SqlProfilingStore : IProfilingStore
{
    /// <summary>Opens a connection for one operation.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>The provider's schema, oldest first.</summary>
    protected abstract IReadOnlyList<Migration> Migrations { get; }

    /// <summary>Held around every write transaction; providers whose database serialises writers return a no-op.</summary>
    protected abstract ValueTask<IDisposable> EnterWriteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes the ALREADY_PROFILING check and the insert that follows it atomic against other writers of the
    /// same service (inside <paramref name="transaction"/>).
    /// </summary>
    protected virtual Task LockServiceTasksAsync(DbConnection connection, DbTransaction transaction, string serviceId, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    /// <summary>
    /// The tables of schema version 1 in SQL that SQLite and PostgreSQL both run; a provider names its
    /// auto-increment key and its binary type. Frozen: later changes are new migrations.
    /// </summary>
    protected static string SchemaVersion1(string sequenceKey, string binary) => $"""
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
            seq {sequenceKey}, task_id TEXT NOT NULL, instance_id TEXT NOT NULL,
            instance_name TEXT NOT NULL, operation INTEGER NOT NULL, operation_time BIGINT NOT NULL, message TEXT);
        CREATE INDEX task_logs_by_task ON task_logs (task_id, seq);
        CREATE TABLE uploads (
            task_id TEXT NOT NULL, instance_id TEXT NOT NULL, instance_name TEXT NOT NULL, uploaded_at BIGINT NOT NULL,
            compressed_bytes BIGINT NOT NULL, decompressed_bytes BIGINT NOT NULL, sample_count BIGINT NOT NULL,
            sample_types TEXT NOT NULL, profile {binary} NOT NULL,
            PRIMARY KEY (task_id, instance_id));
        """;

    /// <summary>
    /// Schema version 2: each upload's digest, the form analyses read (docs/digest.md). Uploads stored before it have
    /// none; the analyses build theirs on first use. Frozen, as version 1 is.
    /// </summary>
    protected static string SchemaVersion2Digest(string binary) => $"ALTER TABLE uploads ADD COLUMN digest {binary};";

    /// <summary>
    /// Schema version 3: views of tasks kept for restarts and other nodes (a task's default flame tree, as a tree
    /// digest), keyed by a hash of what they were built from. Frozen.
    /// </summary>
    protected static string SchemaVersion3Views(string binary) => $"""
        CREATE TABLE task_views (
            task_id TEXT NOT NULL, view_key TEXT NOT NULL, stored_at BIGINT NOT NULL, view {binary} NOT NULL,
            PRIMARY KEY (task_id, view_key));
        """;

    /// <summary>
    /// Schema version 4: the web UI's dashboard templates (docs/skywalking-clients.md), kept apart from the profiling
    /// data and never expired. Frozen.
    /// </summary>
    protected const string SchemaVersion4Templates = """
        CREATE TABLE ui_templates (
            id TEXT PRIMARY KEY, configuration TEXT NOT NULL, disabled INTEGER NOT NULL, updated_at BIGINT NOT NULL);
        """;

    /// <summary>Where the data lives, for the startup line and errors: a file, or a server and database (never a password).</summary>
    public abstract string Location { get; }

    /// <summary>
    /// Why the store cannot take writes now, or <c>null</c> when it can: what <c>/healthz</c> reports. Here, whether
    /// the database answers; providers add what they can check without writing.
    /// </summary>
    public virtual async Task<string?> WriteProblemAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await ScalarAsync(connection, null, "SELECT 1", cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (DbException e)
        {
            return e.Message.ReplaceLineEndings(" ");
        }
    }

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Several nodes may start at once against one database: one migrates while the others wait, then find
        // nothing left to do. The lock is the connection's, so a node killed mid-migration releases it.
        await using IAsyncDisposable schemaLock = await LockSchemaAsync(connection, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, description TEXT NOT NULL, applied_at BIGINT NOT NULL)", cancellationToken).ConfigureAwait(false);
        int known = Migrations[^1].Version;
        int current = await SchemaVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
        if (current > known)
        {
            throw new InvalidOperationException(
                $"the database schema is version {current}, newer than this build knows ({known}): run a newer flamewright");
        }

        foreach (Migration migration in Migrations.Where(m => m.Version > current))
        {
            await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            // Read again under the transaction's write lock: another process may have applied it meanwhile.
            if (await SchemaVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false) >= migration.Version)
            {
                continue;
            }

            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction,
                "INSERT INTO schema_version (version, description, applied_at) VALUES (@v, @d, @t)", cancellationToken,
                ("v", migration.Version), ("d", migration.Description), ("t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The schema version the database holds; 0 for an empty one.</summary>
    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await SchemaVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> SchemaVersionAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        object? version = await ScalarAsync(connection, transaction, "SELECT MAX(version) FROM schema_version", cancellationToken).ConfigureAwait(false);
        return version is null or DBNull ? 0 : Convert.ToInt32(version, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Holds off other nodes' migrations on the same database until the returned lock is disposed. SQLite's
    /// file lock (and <see cref="EnterWriteAsync"/> within this process) already does; a shared server needs more.
    /// </summary>
    protected virtual Task<IAsyncDisposable> LockSchemaAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable>(NoLock.Instance);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public async Task RecordInstanceAsync(InstanceHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        string serviceId = SkyWalkingIds.ServiceId(heartbeat.ServiceName);
        string instanceId = SkyWalkingIds.InstanceId(serviceId, heartbeat.InstanceName);
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, """
            INSERT INTO services (id, name, layer, first_seen, last_seen) VALUES (@id, @name, @layer, @now, @now)
            ON CONFLICT (id) DO UPDATE SET last_seen = @now, layer = @layer
            """, cancellationToken,
            ("id", serviceId), ("name", heartbeat.ServiceName), ("layer", heartbeat.Layer), ("now", heartbeat.Now)).ConfigureAwait(false);
        string? properties = heartbeat.Properties is null ? null : JsonSerializer.Serialize(heartbeat.Properties.Select(p => new[] { p.Key, p.Value }));
        await ExecuteAsync(connection, transaction, """
            INSERT INTO instances (id, service_id, name, layer, properties, first_seen, last_seen)
            VALUES (@id, @service, @name, @layer, COALESCE(@properties, '[]'), @now, @now)
            ON CONFLICT (id) DO UPDATE SET last_seen = @now, layer = @layer,
                properties = COALESCE(@properties, instances.properties)
            """, cancellationToken,
            ("id", instanceId), ("service", serviceId), ("name", heartbeat.InstanceName), ("layer", heartbeat.Layer),
            ("properties", properties), ("now", heartbeat.Now)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> ListLayersAsync(CancellationToken cancellationToken) =>
        await QueryAsync("SELECT DISTINCT layer FROM services ORDER BY layer", r => r.GetString(0), cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<ServiceRecord>> ListServicesAsync(string? layer, int limit, CancellationToken cancellationToken) =>
        layer is null
            ? await QueryAsync("SELECT id, name, layer, first_seen, last_seen FROM services ORDER BY name LIMIT @limit",
                ReadService, cancellationToken, ("limit", limit)).ConfigureAwait(false)
            : await QueryAsync("SELECT id, name, layer, first_seen, last_seen FROM services WHERE UPPER(layer) = UPPER(@layer) ORDER BY name LIMIT @limit",
                ReadService, cancellationToken, ("layer", layer), ("limit", limit)).ConfigureAwait(false);

    public async Task<ServiceRecord?> FindServiceAsync(string serviceId, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT id, name, layer, first_seen, last_seen FROM services WHERE id = @id", ReadService, cancellationToken, ("id", serviceId)).ConfigureAwait(false))
        .FirstOrNull();

    public async Task<IReadOnlyList<InstanceRecord>> ListInstancesAsync(string serviceId, long from, long to, int limit, CancellationToken cancellationToken) =>
        await QueryAsync(
            "SELECT id, service_id, name, layer, properties, first_seen, last_seen FROM instances WHERE service_id = @service AND last_seen >= @from AND first_seen < @to ORDER BY name LIMIT @limit",
            ReadInstance, cancellationToken, ("service", serviceId), ("from", from), ("to", to), ("limit", limit)).ConfigureAwait(false);

    public async Task<InstanceRecord?> FindInstanceAsync(string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT id, service_id, name, layer, properties, first_seen, last_seen FROM instances WHERE id = @id",
            ReadInstance, cancellationToken, ("id", instanceId)).ConfigureAwait(false)).FirstOrNull();

    public async Task<ProfilingTask?> TryCreateTaskAsync(ProfilingTask task, long now, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await LockServiceTasksAsync(connection, transaction, task.ServiceId, cancellationToken).ConfigureAwait(false);
        object? busy = await ScalarAsync(connection, transaction,
            // Only tasks that profile for a while count: a snapshot's profiling_until is its create time, which a
            // same-millisecond neighbour may have moved a millisecond ahead of now.
            "SELECT COUNT(*) FROM tasks WHERE service_id = @service AND event = @event AND profiling_until > @now AND profiling_until > create_time", cancellationToken,
            ("service", task.ServiceId), ("event", task.Event.ToString()), ("now", now)).ConfigureAwait(false);
        if (Convert.ToInt64(busy, System.Globalization.CultureInfo.InvariantCulture) > 0)
        {
            return null;
        }

        ProfilingTask stored = task;
        while (Convert.ToInt64(await ScalarAsync(connection, transaction, "SELECT COUNT(*) FROM tasks WHERE id = @id", cancellationToken, ("id", stored.Id)).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture) > 0)
        {
            long later = stored.CreateTime + 1;
            stored = stored with
            {
                CreateTime = later,
                Id = SkyWalkingIds.TaskId(later, stored.ServiceId),
                DispatchUntil = stored.DispatchUntil + 1,
            };
        }

        await ExecuteAsync(connection, transaction, """
            INSERT INTO tasks (id, service_id, event, duration, dump_period, create_time, dispatch_until, profiling_until)
            VALUES (@id, @service, @event, @duration, @dump, @created, @dispatch, @profiling)
            """, cancellationToken,
            ("id", stored.Id), ("service", stored.ServiceId), ("event", stored.Event.ToString()), ("duration", stored.Duration),
            ("dump", stored.DumpPeriod), ("created", stored.CreateTime), ("dispatch", stored.DispatchUntil), ("profiling", stored.ProfilingUntil)).ConfigureAwait(false);
        for (int i = 0; i < stored.InstanceIds.Count; i++)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO task_instances (task_id, instance_id, position) VALUES (@task, @instance, @position)", cancellationToken,
                ("task", stored.Id), ("instance", stored.InstanceIds[i]), ("position", i)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return stored;
    }

    public async Task<ProfilingTask?> FindTaskAsync(string taskId, CancellationToken cancellationToken) =>
        (await LoadTasksAsync("WHERE id = @id", 1, cancellationToken, ("id", taskId)).ConfigureAwait(false)).FirstOrNull();

    public Task<IReadOnlyList<ProfilingTask>> ListTasksAsync(string serviceId, long from, long to, int limit, CancellationToken cancellationToken) =>
        LoadTasksAsync("WHERE service_id = @service AND create_time >= @from AND create_time < @to ORDER BY create_time DESC", limit, cancellationToken,
            ("service", serviceId), ("from", from), ("to", to));

    public async Task<ProfilingTask?> NextTaskAsync(string serviceId, string instanceId, long lastCommandTime, long now, CancellationToken cancellationToken) =>
        (await LoadTasksAsync("""
            WHERE service_id = @service AND dispatch_until > @now AND create_time > @after
              AND id IN (SELECT task_id FROM task_instances WHERE instance_id = @instance)
            ORDER BY create_time
            """, 1, cancellationToken,
            ("service", serviceId), ("now", now), ("after", lastCommandTime), ("instance", instanceId)).ConfigureAwait(false)).FirstOrNull();

    public async Task AppendLogAsync(TaskLog log, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await InsertLogAsync(connection, null, log, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TaskLog>> ListLogsAsync(string taskId, CancellationToken cancellationToken) =>
        await QueryAsync(
            "SELECT task_id, instance_id, instance_name, operation, operation_time, message FROM task_logs WHERE task_id = @task ORDER BY seq",
            r => new TaskLog(r.GetString(0), r.GetString(1), r.GetString(2), (TaskLogOperation)r.GetInt32(3), r.GetInt64(4), r.IsDBNull(5) ? null : r.GetString(5)),
            cancellationToken, ("task", taskId)).ConfigureAwait(false);

    public async Task SaveUploadAsync(StoredUpload upload, TaskLog finished, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // A replacing upload always gets a later uploaded_at than the one it replaces, even within the same
        // millisecond or after the clock stepped back: (task, instance, uploaded_at) identifies an upload's bytes,
        // and the analysis cache relies on it.
        await ExecuteAsync(connection, transaction, """
            INSERT INTO uploads (task_id, instance_id, instance_name, uploaded_at, compressed_bytes, decompressed_bytes, sample_count, sample_types, profile, digest)
            VALUES (@task, @instance, @name, @at, @compressed, @decompressed, @samples, @types, @profile, @digest)
            ON CONFLICT (task_id, instance_id) DO UPDATE SET instance_name = @name,
                uploaded_at = CASE WHEN @at > uploads.uploaded_at THEN @at ELSE uploads.uploaded_at + 1 END, compressed_bytes = @compressed,
                decompressed_bytes = @decompressed, sample_count = @samples, sample_types = @types, profile = @profile, digest = @digest
            """, cancellationToken,
            ("task", upload.TaskId), ("instance", upload.InstanceId), ("name", upload.InstanceName), ("at", upload.UploadedAt),
            ("compressed", (long)upload.Profile.Length), ("decompressed", upload.DecompressedBytes), ("samples", upload.SampleCount),
            ("types", upload.SampleTypes), ("profile", upload.Profile), ("digest", upload.Digest)).ConfigureAwait(false);
        // The task's kept views were built from the uploads before this one.
        await ExecuteAsync(connection, transaction, "DELETE FROM task_views WHERE task_id = @task", cancellationToken, ("task", upload.TaskId)).ConfigureAwait(false);
        await InsertLogAsync(connection, transaction, finished, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<UploadInfo>> ListUploadsAsync(string taskId, CancellationToken cancellationToken) =>
        await QueryAsync("""
            SELECT task_id, instance_id, instance_name, uploaded_at, compressed_bytes, decompressed_bytes, sample_count, sample_types
            FROM uploads WHERE task_id = @task ORDER BY instance_name
            """,
            r => new UploadInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetString(7)),
            cancellationToken, ("task", taskId)).ConfigureAwait(false);

    public async Task<byte[]?> ReadUploadAsync(string taskId, string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT profile FROM uploads WHERE task_id = @task AND instance_id = @instance",
            r => (byte[])r.GetValue(0), cancellationToken, ("task", taskId), ("instance", instanceId)).ConfigureAwait(false)).FirstOrNull();

    public async Task<StoredDigest?> ReadDigestAsync(string taskId, string instanceId, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT uploaded_at, digest FROM uploads WHERE task_id = @task AND instance_id = @instance",
            r => new StoredDigest(r.GetInt64(0), r.IsDBNull(1) ? null : (byte[])r.GetValue(1)), cancellationToken, ("task", taskId), ("instance", instanceId)).ConfigureAwait(false)).FirstOrNull();

    public async Task SaveDigestAsync(string taskId, string instanceId, long uploadedAt, byte[] digest, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "UPDATE uploads SET digest = @digest WHERE task_id = @task AND instance_id = @instance AND uploaded_at = @at",
            cancellationToken, ("digest", digest), ("task", taskId), ("instance", instanceId), ("at", uploadedAt)).ConfigureAwait(false);
    }

    public async Task<byte[]?> ReadViewAsync(string taskId, string viewKey, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT view FROM task_views WHERE task_id = @task AND view_key = @key",
            r => (byte[])r.GetValue(0), cancellationToken, ("task", taskId), ("key", viewKey)).ConfigureAwait(false)).FirstOrNull();

    public async Task<string?> NewestKeptViewTaskAsync(CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT task_id FROM task_views ORDER BY stored_at DESC LIMIT 1", r => r.GetString(0), cancellationToken).ConfigureAwait(false))
            .FirstOrDefault();

    public async Task SaveViewAsync(string taskId, string viewKey, byte[] view, int uploads, long newestUpload, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Only for a task that still exists (a view saved as its task expires must not outlive it) and whose uploads
        // are still the ones the view was built from.
        await ExecuteAsync(connection, null, """
            INSERT INTO task_views (task_id, view_key, stored_at, view)
            SELECT @task, @key, @now, @view WHERE EXISTS (SELECT 1 FROM tasks WHERE id = @task)
                AND (SELECT COUNT(*) FROM uploads WHERE task_id = @task) = @uploads
                AND (SELECT MAX(uploaded_at) FROM uploads WHERE task_id = @task) = @newest
            ON CONFLICT (task_id, view_key) DO UPDATE SET stored_at = @now, view = @view
            """, cancellationToken, ("task", taskId), ("key", viewKey), ("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), ("view", view),
            ("uploads", (long)uploads), ("newest", newestUpload)).ConfigureAwait(false);
    }

    public async Task<int> DeleteExpiredAsync(long cutoff, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        const string Expired = "SELECT id FROM tasks WHERE create_time < @cutoff";
        await ExecuteAsync(connection, transaction, $"DELETE FROM uploads WHERE task_id IN ({Expired})", cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"DELETE FROM task_views WHERE task_id IN ({Expired})", cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"DELETE FROM task_logs WHERE task_id IN ({Expired})", cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"DELETE FROM task_instances WHERE task_id IN ({Expired})", cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        int tasks = await ExecuteAsync(connection, transaction, "DELETE FROM tasks WHERE create_time < @cutoff", cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "DELETE FROM instances WHERE last_seen < @cutoff", cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction,
            "DELETE FROM services WHERE last_seen < @cutoff AND id NOT IN (SELECT service_id FROM instances) AND id NOT IN (SELECT service_id FROM tasks)",
            cancellationToken, ("cutoff", cutoff)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return tasks;
    }

    private async Task<IReadOnlyList<ProfilingTask>> LoadTasksAsync(string where, int limit, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<(string Id, string Service, PprofEvent Event, int? Duration, int? Dump, long Created, long Dispatch)>();
        await using (DbCommand command = Command(connection, null,
            $"SELECT id, service_id, event, duration, dump_period, create_time, dispatch_until FROM tasks {where} LIMIT {limit}", parameters))
        await using (DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetString(0), reader.GetString(1), Enum.Parse<PprofEvent>(reader.GetString(2)),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetInt32(4),
                    reader.GetInt64(5), reader.GetInt64(6)));
            }
        }

        // The instance lists of every task found, in one query rather than one per task.
        var instances = rows.ToDictionary(r => r.Id, _ => new List<string>(), StringComparer.Ordinal);
        if (rows.Count > 0)
        {
            await using DbCommand command = Command(connection, null,
                $"SELECT task_id, instance_id FROM task_instances WHERE task_id IN (SELECT id FROM tasks {where} LIMIT {limit}) ORDER BY task_id, position", parameters);
            await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (instances.TryGetValue(reader.GetString(0), out List<string>? list))
                {
                    list.Add(reader.GetString(1));
                }
            }
        }

        var tasks = new List<ProfilingTask>(rows.Count);
        foreach (var row in rows)
        {
            tasks.Add(new ProfilingTask(row.Id, row.Service, instances[row.Id], row.Event, row.Duration, row.Dump, row.Created, row.Dispatch));
        }

        return tasks;
    }

    public async Task<ServiceRecord?> FindServiceByNameAsync(string name, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT id, name, layer, first_seen, last_seen FROM services WHERE name = @name ORDER BY id LIMIT 1",
            ReadService, cancellationToken, ("name", name)).ConfigureAwait(false)).FirstOrNull();

    public async Task<IReadOnlyList<DashboardTemplate>> ListTemplatesAsync(int limit, CancellationToken cancellationToken) =>
        await QueryAsync("SELECT id, configuration, disabled FROM ui_templates WHERE disabled = 0 ORDER BY updated_at, id LIMIT @limit",
            ReadTemplate, cancellationToken, ("limit", limit)).ConfigureAwait(false);

    public async Task<DashboardTemplate?> FindTemplateAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync("SELECT id, configuration, disabled FROM ui_templates WHERE id = @id", ReadTemplate, cancellationToken, ("id", id)).ConfigureAwait(false))
        .FirstOrNull();

    public Task<bool> AddTemplateAsync(string id, string configuration, int maxTemplates, long now, CancellationToken cancellationToken) =>
        WriteTemplateAsync("""
            INSERT INTO ui_templates (id, configuration, disabled, updated_at)
            SELECT @id, @configuration, 0, @now WHERE (SELECT COUNT(*) FROM ui_templates) < @max
            ON CONFLICT (id) DO NOTHING
            """, cancellationToken, ("id", id), ("configuration", configuration), ("max", maxTemplates), ("now", now));

    public Task<bool> ChangeTemplateAsync(string id, string configuration, long now, CancellationToken cancellationToken) =>
        WriteTemplateAsync(
            "UPDATE ui_templates SET configuration = @configuration, updated_at = @now WHERE id = @id AND disabled = 0",
            cancellationToken, ("id", id), ("configuration", configuration), ("now", now));

    public Task<bool> DisableTemplateAsync(string id, long now, CancellationToken cancellationToken) =>
        WriteTemplateAsync("UPDATE ui_templates SET disabled = 1, updated_at = @now WHERE id = @id AND disabled = 0",
            cancellationToken, ("id", id), ("now", now));

    public async Task<int> SeedTemplatesAsync(IReadOnlyList<DashboardTemplate> templates, long now, CancellationToken cancellationToken)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int added = 0;
        foreach (DashboardTemplate template in templates)
        {
            added += await ExecuteAsync(connection, transaction,
                "INSERT INTO ui_templates (id, configuration, disabled, updated_at) VALUES (@id, @configuration, @disabled, @now) ON CONFLICT (id) DO NOTHING",
                cancellationToken, ("id", template.Id), ("configuration", template.Configuration), ("disabled", template.Disabled ? 1 : 0), ("now", now))
                .ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return added;
    }

    private async Task<bool> WriteTemplateAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        using IDisposable writing = await EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, sql, cancellationToken, parameters).ConfigureAwait(false) == 1;
    }

    private static DashboardTemplate ReadTemplate(DbDataReader r) => new(r.GetString(0), r.GetString(1), Convert.ToInt64(r.GetValue(2), System.Globalization.CultureInfo.InvariantCulture) != 0);

    private static Task<int> InsertLogAsync(DbConnection connection, DbTransaction? transaction, TaskLog log, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, """
            INSERT INTO task_logs (task_id, instance_id, instance_name, operation, operation_time, message)
            VALUES (@task, @instance, @name, @operation, @time, @message)
            """, cancellationToken,
            ("task", log.TaskId), ("instance", log.InstanceId), ("name", log.InstanceName), ("operation", (int)log.Operation),
            ("time", log.OperationTime), ("message", log.Message));

    private static ServiceRecord ReadService(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4));

    private static InstanceRecord ReadInstance(DbDataReader r)
    {
        string[][] pairs = JsonSerializer.Deserialize<string[][]>(r.GetString(4)) ?? [];
        return new InstanceRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
            [.. pairs.Where(p => p.Length == 2).Select(p => KeyValuePair.Create(p[0], p[1]))], r.GetInt64(5), r.GetInt64(6));
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using DbCommand command = Command(connection, null, sql, parameters);
        await using DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>Runs a statement; returns the rows it changed.</summary>
    protected static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using DbCommand command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using DbCommand command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

#pragma warning disable CA2100 // Statements are constants of this class; values always travel as parameters.
    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach ((string name, object? value) in parameters)
        {
            DbParameter parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            // PostgreSQL's text cannot hold U+0000, which agents and users can send: every provider stores U+FFFD
            // in its place, so that both keep the same and neither fails on it.
            parameter.Value = value switch
            {
                null => DBNull.Value,
                string text when text.Contains('\0', StringComparison.Ordinal) => text.Replace('\0', '\uFFFD'),
                _ => value,
            };
            command.Parameters.Add(parameter);
        }

        return command;
    }
#pragma warning restore CA2100
}

internal static class RowLists
{
    public static T? FirstOrNull<T>(this IReadOnlyList<T> rows)
        where T : class => rows.Count > 0 ? rows[0] : null;
}
