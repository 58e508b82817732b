using System.Runtime.InteropServices;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Runs seconds of synchronous CPU work (parsing an upload, reading a digest, building a tree) on a thread of its own
/// instead of a thread-pool thread. The pool's threads serve every request and every agent's stream; with its minimum at
/// the core count, a few such jobs left nothing to answer a task list with until the pool grew (measured under the load
/// benchmark: benchmarks/README.md, "the thread pool under load"). How many run at once stays bounded by the turns
/// that wrap them (<c>MaxConcurrentParses</c>, <c>MaxConcurrentAnalyses</c>).
/// </summary>
internal static partial class CpuWork
{
    /// <summary>Runs <paramref name="work"/> on a thread of its own; its exception is the task's.</summary>
    public static Task<T> RunAsync<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);

    /// <summary>
    /// <see cref="RunAsync{T}"/> on a thread whose Linux nice value is <paramref name="niceness"/> (0 to 19; 0 leaves
    /// it as it is): work nobody is waiting to see, such as checking an upload, then yields the CPU to what a person
    /// waits for whenever both want it (docs/server.md, "Who gets the CPU"). Elsewhere, and where the kernel refuses,
    /// the thread keeps its priority.
    /// </summary>
    /// <remarks>
    /// A thread's nice value passes to every thread it creates, and a process cannot lower it again. So the niced thread
    /// is the work's alone and ends with it, and it never completes the task itself: whoever completes a task may run its
    /// continuations or create a thread-pool thread to run them, which would then serve requests niced for good. It hands
    /// the outcome to <see cref="Completer"/>, a thread at the process's own priority, which completes the task.
    /// </remarks>
    public static Task<T> RunNicedAsync<T>(int niceness, Func<T> work)
    {
        if (niceness == 0)
        {
            return RunAsync(work);
        }

        // Reached here, on the caller's thread, so that the completer's thread is never created by a niced one.
        Completer completer = Completer.Instance;
        var outcome = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Nice(niceness);
            try
            {
                T result = work();
                completer.Post(() => outcome.SetResult(result));
            }
            catch (Exception e)
            {
                completer.Post(() => outcome.SetException(e));
            }
        })
        {
            IsBackground = true,
            Name = "Flamewright niced work",
        };
        thread.Start();
        return outcome.Task;
    }

    /// <summary>
    /// One thread at the process's priority that completes the tasks of niced work (see <see cref="RunNicedAsync{T}"/>).
    /// It is started by the first caller of <see cref="RunNicedAsync{T}"/>, a thread that is not niced.
    /// </summary>
#pragma warning disable CA1001 // One for the process's lifetime: its queue is never done with.
    internal sealed class Completer
#pragma warning restore CA1001
    {
        private readonly System.Collections.Concurrent.BlockingCollection<Action> _pending = new();
        private readonly TaskCompletionSource<int> _threadId = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Completer()
        {
            var thread = new Thread(() =>
            {
                _threadId.SetResult(GetThreadId());
                foreach (Action completion in _pending.GetConsumingEnumerable())
                {
                    completion();
                }
            })
            {
                IsBackground = true,
                Name = "Flamewright niced work completer",
            };
            thread.Start();
        }

        public static Completer Instance { get; } = new();

        /// <summary>The kernel's id of the completer's thread, once it runs.</summary>
        public Task<int> ThreadId => _threadId.Task;

        /// <summary>Hands <paramref name="completion"/> over; waking the completer creates no thread and queues nothing.</summary>
        public void Post(Action completion) => _pending.Add(completion);
    }

    /// <summary>Sets the calling thread's nice value where the system has them and the kernel allows it.</summary>
    private static void Nice(int niceness)
    {
        if (OperatingSystem.IsLinux())
        {
            // On Linux a nice value is a thread's, named by its kernel id: setpriority(PRIO_PROCESS, tid, value).
            const int PrioProcess = 0;
            _ = SetPriority(PrioProcess, GetThreadId(), niceness);
        }
    }

    /// <summary>The calling thread's nice value (Linux only).</summary>
    internal static int CurrentNiceness() => NicenessOf(GetThreadId());

    /// <summary>The nice value of the process's thread with kernel id <paramref name="threadId"/> (Linux only).</summary>
    internal static int NicenessOf(int threadId)
    {
        // getpriority may return -1 as a value; a nice value read from the kernel's file for the thread is plain.
        string[] fields = File.ReadAllText($"/proc/self/task/{threadId}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // After the command's closing parenthesis: state is field 3 of stat, nice field 19.
        return int.Parse(fields[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
