using Flamewright.Server.Storage;
using Flamewright.Server.Tasks;

namespace Flamewright.Server.Tests.Storage;

/// <summary>
/// What every storage provider promises, as one suite: each provider's test class derives from this one and
/// says only how to open a fresh database and a second node on it.
/// </summary>
public abstract class ProfilingStoreContract : IAsyncLifetime
{
    private const string Service = "go-service";
    private static readonly string s_serviceId = SkyWalkingIds.ServiceId(Service);
    private static readonly string s_instanceA = SkyWalkingIds.InstanceId(s_serviceId, "provider1");
    private static readonly string s_instanceB = SkyWalkingIds.InstanceId(s_serviceId, "provider2");
    private const long Now = 1_750_000_000_000;

    /// <summary>The schema version this build migrates to.</summary>
    private const int LatestVersion = 4;

    private readonly List<SqlProfilingStore> _opened = [];

    /// <summary>The store under test, migrated, on a database of its own.</summary>
    protected SqlProfilingStore Store { get; private set; } = null!;

    /// <summary>Creates an empty database and returns a store on it (not yet migrated).</summary>
    protected abstract Task<SqlProfilingStore> CreateStoreAsync();

    /// <summary>Another store on the same database, as a second server node would open it.</summary>
    protected abstract SqlProfilingStore OpenAnotherNode();

    /// <summary>Runs a statement on the database directly, behind the store's back.</summary>
    protected abstract Task ExecuteRawAsync(string sql);

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        _opened.Add(Store);
        await Store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (SqlProfilingStore store in _opened)
        {
            switch (store)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    private SqlProfilingStore Node()
    {
        SqlProfilingStore store = OpenAnotherNode();
        _opened.Add(store);
        return store;
    }

    [Fact(Timeout = Spec.Timeout)]
    public Task Migrating_again_changes_nothing_and_keeps_the_data() => Spec.Run(async () =>
    {
        await HeartbeatAsync("provider1", Now);
        int version = await Store.SchemaVersionAsync(default);

        await Store.MigrateAsync(default);

        Assert.Equal(version, await Store.SchemaVersionAsync(default));
        Assert.Single(await Store.ListServicesAsync(null, 100, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Nodes_starting_together_on_an_empty_database_migrate_it_once_without_failing() => Spec.Run(async () =>
    {
        SqlProfilingStore[] nodes = [.. Enumerable.Range(0, 4).Select(_ => Node())];
        await ExecuteRawAsync("DROP TABLE ui_templates; DROP TABLE task_views; DROP TABLE uploads; DROP TABLE task_logs; DROP TABLE task_instances; DROP TABLE tasks; DROP TABLE instances; DROP TABLE services; DROP TABLE schema_version");

        await Task.WhenAll(nodes.Select(n => Task.Run(() => n.MigrateAsync(default))));

        Assert.All(await Task.WhenAll(nodes.Select(n => n.SchemaVersionAsync(default))), v => Assert.Equal(LatestVersion, v));
        await HeartbeatAsync("provider1", Now);
        Assert.Single(await nodes[3].ListServicesAsync(null, 100, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_database_written_by_a_newer_build_is_refused_with_its_version() => Spec.Run(async () =>
    {
        await ExecuteRawAsync("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'from the future', 0)");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Node().MigrateAsync(default));

        Assert.Contains($"schema is version 99, newer than this build knows ({LatestVersion})", refused.Message);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_heartbeat_records_service_and_instance_and_keepalive_keeps_the_properties() => Spec.Run(async () =>
    {
        await HeartbeatAsync("provider1", Now, [KeyValuePair.Create("language", "go"), KeyValuePair.Create("hostname", "héllo 'quoted' \"name\"")]);
        await HeartbeatAsync("provider1", Now + 5_000, properties: null);

        ServiceRecord service = Assert.Single(await Store.ListServicesAsync(null, 100, default));
        Assert.Equal((s_serviceId, Service, "GENERAL", Now, Now + 5_000), (service.Id, service.Name, service.Layer, service.FirstSeen, service.LastSeen));
        InstanceRecord instance = (await Store.FindInstanceAsync(s_instanceA, default))!;
        Assert.Equal(("provider1", "GO", Now, Now + 5_000), (instance.Name, instance.Language, instance.FirstSeen, instance.LastSeen));
        Assert.Equal("héllo 'quoted' \"name\"", instance.Properties.Single(p => p.Key == "hostname").Value);

        await HeartbeatAsync("provider1", Now + 6_000, [KeyValuePair.Create("language", "java")]);
        Assert.Equal("JAVA", (await Store.FindInstanceAsync(s_instanceA, default))!.Language);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Services_and_instances_are_listed_by_name_up_to_the_limit_asked_and_services_by_layer_in_any_case() => Spec.Run(async () =>
    {
        await HeartbeatAsync("provider3", Now);
        await HeartbeatAsync("provider1", Now);
        await HeartbeatAsync("provider2", Now);
        await Store.RecordInstanceAsync(new InstanceHeartbeat("other-service", "other1", "MESH", null, Now), default);

        Assert.Equal(["provider1", "provider2"], (await Store.ListInstancesAsync(s_serviceId, Now, Now + 1, 2, default)).Select(i => i.Name));
        Assert.Equal([Service], (await Store.ListServicesAsync("general", 10, default)).Select(s => s.Name));
        Assert.Equal(["other-service"], (await Store.ListServicesAsync("MESH", 10, default)).Select(s => s.Name));
        Assert.Single(await Store.ListServicesAsync(null, 1, default));
        Assert.Equal(["GENERAL", "MESH"], await Store.ListLayersAsync(default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Instances_are_listed_by_name_when_alive_during_the_window() => Spec.Run(async () =>
    {
        await HeartbeatAsync("provider2", Now);
        await HeartbeatAsync("provider1", Now + 10_000);

        Assert.Equal(["provider1", "provider2"], (await Store.ListInstancesAsync(s_serviceId, Now, Now + 20_000, 100, default)).Select(i => i.Name));
        Assert.Equal(["provider2"], (await Store.ListInstancesAsync(s_serviceId, Now - 5_000, Now + 1, 100, default)).Select(i => i.Name));
        Assert.Empty(await Store.ListInstancesAsync(s_serviceId, Now + 20_000, Now + 30_000, 100, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_second_task_for_the_same_event_is_refused_while_the_first_profiles_and_taken_after() => Spec.Run(async () =>
    {
        Assert.NotNull(await Store.TryCreateTaskAsync(NewTask(PprofEvent.CPU, Now, minutes: 2), Now, default));

        Assert.Null(await Store.TryCreateTaskAsync(NewTask(PprofEvent.CPU, Now + 1_000, minutes: 2), Now + 1_000, default));
        Assert.NotNull(await Store.TryCreateTaskAsync(NewTask(PprofEvent.BLOCK, Now + 1_000, minutes: 2), Now + 1_000, default));
        Assert.NotNull(await Store.TryCreateTaskAsync(NewTask(PprofEvent.CPU, Now + 120_000, minutes: 2), Now + 120_000, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Snapshot_tasks_in_the_same_millisecond_get_distinct_ids_and_none_counts_as_still_profiling() => Spec.Run(async () =>
    {
        ProfilingTask first = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!;
        ProfilingTask second = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!;

        ProfilingTask? third = await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default);

        Assert.Equal(SkyWalkingIds.TaskId(Now, s_serviceId), first.Id);
        Assert.Equal(SkyWalkingIds.TaskId(Now + 1, s_serviceId), second.Id);
        Assert.Equal(SkyWalkingIds.TaskId(Now + 2, s_serviceId), third?.Id);
        Assert.Equal([third!.Id, second.Id, first.Id], (await Store.ListTasksAsync(s_serviceId, Now, Now + 10, 10, default)).Select(t => t.Id));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Nodes_racing_to_create_the_same_kind_of_task_let_exactly_one_win() => Spec.Run(async () =>
    {
        SqlProfilingStore[] nodes = [Store, Node(), Node()];
        // Warm connections on every node, so that the attempts meet in the database rather than queue on connects.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => nodes[i % nodes.Length].ListServicesAsync(null, 100, default)));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<ProfilingTask?>[] attempts = [.. Enumerable.Range(0, 24).Select(async i =>
        {
            await start.Task;
            return await nodes[i % nodes.Length].TryCreateTaskAsync(NewTask(PprofEvent.CPU, Now + i, minutes: 5), Now + i, default);
        })];

        start.SetResult();
        ProfilingTask?[] outcomes = await Task.WhenAll(attempts);

        ProfilingTask winner = Assert.Single(outcomes.OfType<ProfilingTask>());
        Assert.Equal([winner.Id], (await Store.ListTasksAsync(s_serviceId, 0, long.MaxValue, 100, default)).Select(t => t.Id));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_task_is_stored_whole_and_read_back_from_another_node() => Spec.Run(async () =>
    {
        ProfilingTask created = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.MUTEX, Now, minutes: 3, dump: 10, instances: [s_instanceB, s_instanceA]), Now, default))!;

        ProfilingTask read = (await Node().FindTaskAsync(created.Id, default))!;

        Assert.Equal((created.Id, PprofEvent.MUTEX, (int?)3, (int?)10, Now, created.DispatchUntil), (read.Id, read.Event, read.Duration, read.DumpPeriod, read.CreateTime, read.DispatchUntil));
        Assert.Equal([s_instanceB, s_instanceA], read.InstanceIds);
        Assert.Null(await Store.FindTaskAsync("no-such-task", default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_agent_gets_the_oldest_dispatchable_task_naming_it_created_after_its_last_command() => Spec.Run(async () =>
    {
        ProfilingTask heap = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now, instances: [s_instanceA]), Now, default))!;
        ProfilingTask goroutine = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.GOROUTINE, Now + 10, instances: [s_instanceB]), Now + 10, default))!;
        ProfilingTask allocs = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.ALLOCS, Now + 20, instances: [s_instanceA]), Now + 20, default))!;
        SqlProfilingStore other = Node();

        Assert.Equal(heap.Id, (await other.NextTaskAsync(s_serviceId, s_instanceA, 0, Now + 30, default))?.Id);
        Assert.Equal(allocs.Id, (await other.NextTaskAsync(s_serviceId, s_instanceA, heap.CreateTime, Now + 30, default))?.Id);
        Assert.Equal(goroutine.Id, (await other.NextTaskAsync(s_serviceId, s_instanceB, 0, Now + 30, default))?.Id);
        Assert.Null(await other.NextTaskAsync(s_serviceId, s_instanceA, allocs.CreateTime, Now + 30, default));
        Assert.Null(await other.NextTaskAsync(s_serviceId, s_instanceA, 0, allocs.DispatchUntil, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Logs_come_back_in_the_order_written_with_their_messages() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        TaskLog[] written =
        [
            new(taskId, s_instanceA, "provider1", TaskLogOperation.NOTIFIED, Now + 1, null),
            new(taskId, s_instanceB, "provider2", TaskLogOperation.NOTIFIED, Now + 1, null),
            new(taskId, s_instanceA, "provider1", TaskLogOperation.EXECUTION_TASK_ERROR, Now, "pprof: \"heap\" ✗ failed\nsecond line"),
        ];

        foreach (TaskLog log in written)
        {
            await Store.AppendLogAsync(log, default);
        }

        Assert.Equal(written, await Node().ListLogsAsync(taskId, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_upload_and_its_finished_log_are_stored_together_and_its_bytes_come_back_exactly() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        byte[] profile = RandomBytes(30 * 1024 * 1024, seed: 1);

        await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, profile), Finished(taskId, s_instanceA, Now + 5), default);

        SqlProfilingStore other = Node();
        UploadInfo info = Assert.Single(await other.ListUploadsAsync(taskId, default));
        Assert.Equal((s_instanceA, "provider1", Now + 5, (long)profile.Length, 3L * profile.Length, 42L, "inuse_space/bytes"),
            (info.InstanceId, info.InstanceName, info.UploadedAt, info.CompressedBytes, info.DecompressedBytes, info.SampleCount, info.SampleTypes));
        Assert.Equal(profile, await other.ReadUploadAsync(taskId, s_instanceA, default));
        Assert.Null(await other.ReadUploadAsync(taskId, s_instanceB, default));
        Assert.Equal([TaskLogOperation.EXECUTION_FINISHED], (await other.ListLogsAsync(taskId, default)).Select(l => l.Operation));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task An_uploads_digest_is_stored_with_it_and_replaced_with_it() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        byte[] digest = RandomBytes(5 * 1024 * 1024, seed: 4);
        await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, RandomBytes(100, seed: 5)) with { Digest = digest }, Finished(taskId, s_instanceA, Now + 5), default);

        Assert.Equal(new StoredDigest(Now + 5, digest), await Node().ReadDigestAsync(taskId, s_instanceA, default), DigestComparer);
        Assert.Null(await Store.ReadDigestAsync(taskId, s_instanceB, default));

        await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 9, RandomBytes(100, seed: 6)), Finished(taskId, s_instanceA, Now + 9), default);

        Assert.Equal(new StoredDigest(Now + 9, null), await Store.ReadDigestAsync(taskId, s_instanceA, default), DigestComparer);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_database_of_schema_version_1_gains_the_digest_column_and_keeps_its_uploads_without_digests() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        await ExecuteRawAsync("DROP TABLE ui_templates; DROP TABLE task_views; ALTER TABLE uploads DROP COLUMN digest; DELETE FROM schema_version WHERE version > 1");
        await ExecuteRawAsync($"""
            INSERT INTO uploads (task_id, instance_id, instance_name, uploaded_at, compressed_bytes, decompressed_bytes, sample_count, sample_types, profile)
            VALUES ('{taskId}', '{s_instanceA}', 'provider1', {Now + 5}, 3, 9, 1, 'inuse_space/bytes', {HexLiteral([7, 8, 9])})
            """);

        SqlProfilingStore upgraded = Node();
        await upgraded.MigrateAsync(default);

        Assert.Equal(LatestVersion, await upgraded.SchemaVersionAsync(default));
        Assert.Equal(new StoredDigest(Now + 5, null), await upgraded.ReadDigestAsync(taskId, s_instanceA, default), DigestComparer);
        Assert.Equal([7, 8, 9], await upgraded.ReadUploadAsync(taskId, s_instanceA, default));
    });

    /// <summary>A binary literal in the provider's SQL.</summary>
    protected abstract string HexLiteral(byte[] bytes);

    [Fact(Timeout = Spec.Timeout)]
    public Task A_digest_built_later_is_kept_only_for_the_upload_it_was_built_from() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, RandomBytes(100, seed: 5)), Finished(taskId, s_instanceA, Now + 5), default);

        await Node().SaveDigestAsync(taskId, s_instanceA, Now + 5, [1, 2, 3], default);
        await Store.SaveDigestAsync(taskId, s_instanceA, Now + 4, [9, 9, 9], default);

        Assert.Equal(new StoredDigest(Now + 5, [1, 2, 3]), await Store.ReadDigestAsync(taskId, s_instanceA, default), DigestComparer);
        byte[] profile = (await Store.ReadUploadAsync(taskId, s_instanceA, default))!;
        Assert.Equal(RandomBytes(100, seed: 5), profile);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_kept_view_is_shared_by_nodes_dropped_when_an_instance_uploads_again_or_the_task_expires_and_never_kept_for_older_uploads() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, RandomBytes(100, seed: 5)), Finished(taskId, s_instanceA, Now + 5), default);
        byte[] view = RandomBytes(3 * 1024 * 1024, seed: 7);
        Assert.Null(await Store.NewestKeptViewTaskAsync(default));

        await Store.SaveViewAsync(taskId, "key-1", view, 1, Now + 5, default);
        await Node().SaveViewAsync(taskId, "key-1", view, 1, Now + 5, default);
        await Store.SaveViewAsync("no-such-task", "key-1", view, 1, Now + 5, default);

        Assert.Equal(view, await Node().ReadViewAsync(taskId, "key-1", default));
        Assert.Equal(taskId, await Node().NewestKeptViewTaskAsync(default));
        Assert.Null(await Store.ReadViewAsync(taskId, "key-2", default));
        Assert.Null(await Store.ReadViewAsync("no-such-task", "key-1", default));

        await Store.SaveUploadAsync(Upload(taskId, s_instanceB, Now + 6, RandomBytes(100, seed: 6)), Finished(taskId, s_instanceB, Now + 6), default);
        Assert.Null(await Store.ReadViewAsync(taskId, "key-1", default));

        // A view built from the uploads before the last one arrives too late: not kept.
        await Store.SaveViewAsync(taskId, "key-2", view, 1, Now + 5, default);
        Assert.Null(await Store.ReadViewAsync(taskId, "key-2", default));

        await Store.SaveViewAsync(taskId, "key-3", view, 2, Now + 6, default);
        Assert.Equal(view, await Store.ReadViewAsync(taskId, "key-3", default));
        await Store.DeleteExpiredAsync(Now + 1, default);
        Assert.Null(await Store.ReadViewAsync(taskId, "key-3", default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_repeated_upload_replaces_the_first_with_a_later_time_even_in_the_same_millisecond() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        byte[] second = RandomBytes(1000, seed: 3);
        await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, RandomBytes(2000, seed: 2)), Finished(taskId, s_instanceA, Now + 5), default);

        await Node().SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, second), Finished(taskId, s_instanceA, Now + 5), default);

        UploadInfo info = Assert.Single(await Store.ListUploadsAsync(taskId, default));
        Assert.Equal((Now + 6, 1000L), (info.UploadedAt, info.CompressedBytes));
        Assert.Equal(second, await Store.ReadUploadAsync(taskId, s_instanceA, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task The_same_upload_arriving_at_two_nodes_at_once_is_kept_once() => Spec.Run(async () =>
    {
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        byte[] profile = RandomBytes(256 * 1024, seed: 4);
        SqlProfilingStore[] nodes = [Store, Node()];

        await Task.WhenAll(nodes.Select(n => Task.Run(() =>
            n.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, profile), Finished(taskId, s_instanceA, Now + 5), default))));

        Assert.Single(await Store.ListUploadsAsync(taskId, default));
        Assert.Equal(profile, await Store.ReadUploadAsync(taskId, s_instanceA, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Expiry_removes_old_tasks_with_everything_hanging_on_them_and_idle_instances_and_keeps_the_rest() => Spec.Run(async () =>
    {
        await HeartbeatAsync("provider1", Now);
        await HeartbeatAsync("provider2", Now + 100_000);
        string old = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        string recent = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.ALLOCS, Now + 100_000), Now + 100_000, default))!.Id;
        foreach (string taskId in new[] { old, recent })
        {
            await Store.AppendLogAsync(new TaskLog(taskId, s_instanceA, "provider1", TaskLogOperation.NOTIFIED, Now, null), default);
            await Store.SaveUploadAsync(Upload(taskId, s_instanceA, Now + 5, [1, 2, 3]), Finished(taskId, s_instanceA, Now + 5), default);
        }

        int deleted = await Node().DeleteExpiredAsync(Now + 50_000, default);

        Assert.Equal(1, deleted);
        Assert.Null(await Store.FindTaskAsync(old, default));
        Assert.Empty(await Store.ListLogsAsync(old, default));
        Assert.Empty(await Store.ListUploadsAsync(old, default));
        Assert.NotNull(await Store.FindTaskAsync(recent, default));
        Assert.Equal(2, (await Store.ListLogsAsync(recent, default)).Count);
        Assert.Single(await Store.ListUploadsAsync(recent, default));
        Assert.Null(await Store.FindInstanceAsync(s_instanceA, default));
        Assert.NotNull(await Store.FindInstanceAsync(s_instanceB, default));
        Assert.Single(await Store.ListServicesAsync(null, 100, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Text_with_NUL_characters_is_stored_with_a_replacement_character_and_found_again() => Spec.Run(async () =>
    {
        await Store.RecordInstanceAsync(new InstanceHeartbeat("nul\0service", "in\0stance", "GEN\0ERAL", [KeyValuePair.Create("k\0", "v\0")], Now), default);
        string taskId = (await Store.TryCreateTaskAsync(NewTask(PprofEvent.HEAP, Now), Now, default))!.Id;
        await Store.AppendLogAsync(new TaskLog(taskId, s_instanceA, "provider1", TaskLogOperation.EXECUTION_TASK_ERROR, Now, "broken\0pipe"), default);

        ServiceRecord service = Assert.Single(await Store.ListServicesAsync(null, 100, default));
        Assert.Equal(("nul\uFFFDservice", "GEN\uFFFDERAL"), (service.Name, service.Layer));
        Assert.Equal("broken\uFFFDpipe", Assert.Single(await Store.ListLogsAsync(taskId, default)).Message);
        Assert.Null(await Store.FindTaskAsync(taskId + "\0", default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Dashboard_templates_are_added_changed_and_disabled_and_every_node_sees_the_same() => Spec.Run(async () =>
    {
        SqlProfilingStore other = OpenAnotherNode();

        Assert.True(await Store.AddTemplateAsync("t-1", "{\"name\":\"one\"}", 10, Now, default));
        Assert.False(await Store.AddTemplateAsync("t-1", "{\"name\":\"again\"}", 10, Now, default));
        Assert.True(await other.ChangeTemplateAsync("t-1", "{\"name\":\"changed\"}", Now + 1, default));
        Assert.True(await Store.AddTemplateAsync("t-2", "{}", 10, Now + 2, default));
        Assert.True(await other.DisableTemplateAsync("t-2", Now + 3, default));
        Assert.False(await Store.DisableTemplateAsync("t-2", Now + 4, default));
        Assert.False(await Store.ChangeTemplateAsync("t-2", "{}", Now + 4, default));
        Assert.False(await Store.ChangeTemplateAsync("no-such", "{}", Now + 4, default));

        Assert.Equal(new[] { new DashboardTemplate("t-1", "{\"name\":\"changed\"}") }, await Store.ListTemplatesAsync(10, default));
        Assert.Equal(new DashboardTemplate("t-2", "{}", Disabled: true), await other.FindTemplateAsync("t-2", default));
        Assert.Null(await other.FindTemplateAsync("no-such", default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Seeding_templates_adds_only_ids_not_stored_and_adding_stops_at_the_limit() => Spec.Run(async () =>
    {
        await Store.AddTemplateAsync("shipped-1", "{\"name\":\"mine\"}", 10, Now, default);
        await Store.DisableTemplateAsync("shipped-1", Now, default);

        int added = await Store.SeedTemplatesAsync([new DashboardTemplate("shipped-1", "{\"name\":\"shipped\"}"), new DashboardTemplate("shipped-2", "{}")], Now + 1, default);
        int again = await OpenAnotherNode().SeedTemplatesAsync([new DashboardTemplate("shipped-2", "{\"name\":\"newer\"}")], Now + 2, default);

        Assert.Equal((1, 0), (added, again));
        Assert.Equal(new DashboardTemplate("shipped-1", "{\"name\":\"mine\"}", Disabled: true), await Store.FindTemplateAsync("shipped-1", default));
        Assert.Equal(new[] { new DashboardTemplate("shipped-2", "{}") }, await Store.ListTemplatesAsync(10, default));
        Assert.False(await Store.AddTemplateAsync("third", "{}", 2, Now + 3, default));
        Assert.True(await Store.AddTemplateAsync("third", "{}", 3, Now + 3, default));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_service_is_found_by_its_name() => Spec.Run(async () =>
    {
        await HeartbeatAsync("provider1", Now);

        Assert.Equal(s_serviceId, (await Store.FindServiceByNameAsync(Service, default))?.Id);
        Assert.Null(await Store.FindServiceByNameAsync("GO-SERVICE", default));
    });

    private static readonly IEqualityComparer<StoredDigest?> DigestComparer = EqualityComparer<StoredDigest?>.Create(
        (a, b) => a is null ? b is null : b is not null && a.UploadedAt == b.UploadedAt
            && (a.Digest is null ? b.Digest is null : b.Digest is not null && a.Digest.AsSpan().SequenceEqual(b.Digest)),
        d => d?.UploadedAt.GetHashCode() ?? 0);

    private Task HeartbeatAsync(string instance, long now, IReadOnlyList<KeyValuePair<string, string>>? properties = null) =>
        Store.RecordInstanceAsync(new InstanceHeartbeat(Service, instance, "GENERAL", properties, now), default);

    private static ProfilingTask NewTask(PprofEvent pprofEvent, long createTime, int? minutes = null, int? dump = null, string[]? instances = null) =>
        new(SkyWalkingIds.TaskId(createTime, s_serviceId), s_serviceId, instances ?? [s_instanceA, s_instanceB], pprofEvent, minutes, dump,
            createTime, createTime + Math.Max(5, minutes ?? 0) * 60_000L);

    private static StoredUpload Upload(string taskId, string instanceId, long at, byte[] profile) =>
        new(taskId, instanceId, instanceId == s_instanceA ? "provider1" : "provider2", at, 3L * profile.Length, 42, "inuse_space/bytes", profile);

    private static TaskLog Finished(string taskId, string instanceId, long at) =>
        new(taskId, instanceId, instanceId == s_instanceA ? "provider1" : "provider2", TaskLogOperation.EXECUTION_FINISHED, at, null);

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
