// The suspension protocol every eddy awaiter follows; the heart of cancel-safety.
//
// A task is only ever suspended on a `Waiter`: something that knows how to withdraw the task
// from whatever it waits for (a timer, a semaphore's queue, a file descriptor). When the task
// is cancelled, the runtime calls `withdraw()`:
//   - true: the waiter unlinked itself and took nothing; the task is scheduled and the
//     awaiter's await_resume throws `Cancelled`.
//   - false: the wait cannot be withdrawn (the resource was already handed over, or the
//     awaiter must finish first, like TaskGroup::join waiting for its children); whoever
//     completes the wait resumes the task as usual.
// That one rule is what makes "a cancelled acquire takes no permit" and "a cancelled get loses
// no item" hold. Tasks are always resumed from the loop's ready queue, never inline.
#pragma once

#include <coroutine>
#include <cstdint>

namespace eddy::detail {

class TaskBase;

class Waiter {
 public:
  virtual bool withdraw() noexcept = 0;

 protected:
  Waiter() = default;
  Waiter(const Waiter&) = default;
  Waiter& operator=(const Waiter&) = default;
  ~Waiter() = default;
};

class WaitList;

// A place in a FIFO wait list. Embedded in awaiters that live in the coroutine frame, so a
// wait allocates nothing; the destructor unlinks, so destroying a suspended frame is safe.
class WaitNode : public Waiter {
 public:
  enum class State : std::uint8_t { idle, waiting, woken, withdrawn };

  WaitNode() = default;
  // Awaiters are moved only before they are awaited (into a coroutine frame, e.g. by
  // eddy::timeout): a moved node starts idle and unlinked.
  WaitNode(WaitNode&&) noexcept : Waiter() {}
  WaitNode(const WaitNode&) = delete;
  WaitNode& operator=(const WaitNode&) = delete;
  ~WaitNode();

  bool withdraw() noexcept override;

  // The usual await_suspend: if the current task is already being cancelled, do not suspend
  // (await_resume then throws); otherwise join `list` and suspend the task here.
  bool suspend_in(WaitList& list, std::coroutine_handle<> h);
  // The usual first line of await_resume.
  void throw_if_withdrawn() const;

  State state = State::idle;
  TaskBase* task = nullptr;
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  WaitList* list = nullptr;
};

class WaitList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  WaitNode* front() const noexcept { return head_; }
  // Inline: every wake-up and every suspension goes through these (a third of a wake-up's
  // instructions were calls between them).
  void push_back(WaitNode* n) noexcept {
    n->list = this;
    n->state = WaitNode::State::waiting;
    n->next = nullptr;
    n->prev = tail_;
    if (tail_) {
      tail_->next = n;
    } else {
      head_ = n;
    }
    tail_ = n;
  }
  void remove(WaitNode* n) noexcept {
    if (n->prev) {
      n->prev->next = n->next;
    } else {
      head_ = n->next;
    }
    if (n->next) {
      n->next->prev = n->prev;
    } else {
      tail_ = n->prev;
    }
    n->prev = n->next = nullptr;
    n->list = nullptr;
  }
  WaitNode* pop_front() noexcept {
    WaitNode* n = head_;
    if (n) remove(n);
    return n;
  }
  // Wakes the first waiter normally (its wait succeeded). Returns false if none waited.
  bool wake_one() noexcept;
  void wake_all() noexcept;

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
};

}  // namespace eddy::detail
